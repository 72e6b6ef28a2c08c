"""Precision-aware scaling laws: a calculator (Kumar et al., arXiv 2411.04330).

Equation numbers (Eq. 1-5, 13) are those of docs/precision_scaling.md,
section "The laws", which also gives the derivations and caveats; App. and
section numbers are those of the paper (arXiv 2411.04330).

Symbols
-------
N
    Non-embedding parameters (> 0).
D
    Training tokens (> 0).
P_w, P_a, P_kv
    Training precisions of weights, activations and the KV cache, in bits
    (>= 1); ``None`` or ``inf`` means high precision (no factor).
P_post
    Post-training (weight-only) quantization precision in bits (>= 1).
L
    Validation loss in nats per token.

Every function broadcasts over array inputs (NumPy rules) and returns float64
arrays (0-d for scalar inputs).  Bad inputs (bits < 1, non-positive N or D)
raise :class:`~theorylab.core.errors.ConfigError` naming the argument.

The published constants (:data:`PAPER_PARAMS`, App. K Table 2) were fitted to
OLMo-style Transformers trained on Dolma with integer fake quantization.  The
authors say the numbers "are unlikely to be useful" elsewhere: use them to
reproduce the paper's statements, never as targets for other models.
"""

from __future__ import annotations

import dataclasses
import warnings
from dataclasses import dataclass

import numpy as np

from theorylab.core.errors import ConfigError, check_array
from theorylab.core.solvers import find_root, minimize_scalar

__all__ = [
    "PAPER_PARAMS",
    "BoundaryOptimumWarning",
    "ComputeOptimal",
    "LawParams",
    "chinchilla_ratio",
    "compute_optimal",
    "critical_data",
    "delta_ptq",
    "delta_ptq_unified",
    "loss",
    "loss_total",
    "n_eff",
    "p_star_closed_form",
    "precision_factor",
    "ptq_second_order_ratio",
]

FAMILIES = ("w", "a", "kv")

# LawParams fields -> (what is allowed, test); NaN means "not known" where allowed
_NAN_OK = {"A", "alpha", "B", "beta", "E", "gamma_w", "gamma_a", "gamma_kv"}
_FIELD_RULES = {
    "A": ("a finite number >= 0 (NaN: not known)", lambda v: np.isfinite(v) and v >= 0),
    "B": ("a finite number >= 0 (NaN: not known)", lambda v: np.isfinite(v) and v >= 0),
    "E": ("a finite number >= 0 (NaN: not known)", lambda v: np.isfinite(v) and v >= 0),
    "alpha": ("a finite exponent > 0 (NaN: not known)", lambda v: np.isfinite(v) and v > 0),
    "beta": ("a finite exponent > 0 (NaN: not known)", lambda v: np.isfinite(v) and v > 0),
    "C_T": ("a finite number >= 0", lambda v: np.isfinite(v) and v >= 0),
    "gamma_D": ("a finite exponent", np.isfinite),
    "gamma_N": ("a finite exponent", np.isfinite),
    "gamma_post": ("a finite number of bits > 0", lambda v: np.isfinite(v) and v > 0),
}
for _f in FAMILIES:
    _FIELD_RULES[f"gamma_{_f}"] = (
        "a finite number of bits > 0 (NaN: not known)",
        lambda v: np.isfinite(v) and v > 0,
    )
    _FIELD_RULES[f"n_{_f}"] = ("a finite offset in bits", np.isfinite)
    _FIELD_RULES[f"C_{_f}"] = ("a number > 0 (inf: no robustification)", lambda v: v > 0)


class BoundaryOptimumWarning(UserWarning):
    """:func:`compute_optimal` found its optimum on an end of ``P_range``.

    The returned P* is then the search limit, not an optimum: the loss is
    still falling beyond it (e.g. a single quantized family, whose f(P)/P is
    monotone, or a fixed N so small or so large for the budget that the
    lowest or highest precision wins).  ``ComputeOptimal.at_boundary`` flags
    the entries concerned.
    """


@dataclass(frozen=True)
class LawParams:
    """Constants of the precision-aware scaling laws (App. K Table 2 of arXiv 2411.04330).

    Attributes
    ----------
    A, alpha, B, beta, E : float
        Chinchilla terms, L = A N^-alpha + B D^-beta + E (E in nats/token).
    gamma_w, gamma_a, gamma_kv : float
        Precision sensitivities of weights, activations, KV cache (bits);
        NaN (the default) means "not known", and using that family raises.
    C_T, gamma_D, gamma_N, gamma_post : float
        Post-train quantization law (Eq. 2); N and D counted raw.
    n_w, n_a, n_kv : float
        Offsets (bits) in 1 - exp(-(P - n)/gamma).  Table 2 lists offsets
        (n_w, n_i, n_kv, b) whose values and exact place in the formulas are
        not known; they default to 0 (the test vectors assume 0).
    C_w, C_a, C_kv : float
        Robustness constants of the unified law (Section 5), not published:
        default ``inf``, which makes the robustness factor 1 (no
        robustification) for any P_x > P_post.
    source : str
        Where the numbers come from.
    """

    A: float
    alpha: float
    B: float
    beta: float
    E: float
    gamma_w: float = np.nan
    gamma_a: float = np.nan
    gamma_kv: float = np.nan
    C_T: float = 0.0
    gamma_D: float = 0.0
    gamma_N: float = 0.0
    gamma_post: float = 1.0
    n_w: float = 0.0
    n_a: float = 0.0
    n_kv: float = 0.0
    C_w: float = np.inf
    C_a: float = np.inf
    C_kv: float = np.inf
    source: str = ""

    def __post_init__(self) -> None:
        for name, (allowed, ok) in _FIELD_RULES.items():
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int | float | np.integer | np.floating):
                raise ConfigError(name, v, f"must be a real number: {allowed}")
            v = float(v)
            if np.isnan(v) and name in _NAN_OK:
                continue
            if not ok(v):
                raise ConfigError(name, v, f"must be {allowed}")
        if not isinstance(self.source, str):
            raise ConfigError("source", self.source, "must be a string")

    def replace(self, **changes) -> LawParams:
        """A copy with some constants changed (validated like the original).

        Parameters
        ----------
        **changes : float or str
            New values of fields (docs/precision_scaling.md, "Constants").

        Returns
        -------
        LawParams
        """
        return dataclasses.replace(self, **changes)

    def gamma(self, family: str) -> float:
        """Sensitivity gamma_<family> in bits (Eq. 3 of docs/precision_scaling.md).

        Parameters
        ----------
        family : {"w", "a", "kv"}

        Returns
        -------
        float
            NaN if not known.
        """
        if family not in FAMILIES:
            raise ConfigError("family", family, "one of 'w', 'a', 'kv'")
        return float(getattr(self, f"gamma_{family}"))

    def shift(self, family: str) -> float:
        """Offset n_<family> in bits subtracted from that family's precision (Eq. 3).

        Parameters
        ----------
        family : {"w", "a", "kv"}

        Returns
        -------
        float
        """
        if family not in FAMILIES:
            raise ConfigError("family", family, "one of 'w', 'a', 'kv'")
        return float(getattr(self, f"n_{family}"))

    def to_dict(self) -> dict:
        """Every field by name (docs/precision_scaling.md, "Constants").

        Returns
        -------
        dict of str to float or str
            The constants and ``source``; ``LawParams(**d)`` rebuilds the set.
        """
        return dataclasses.asdict(self)

    def _known(self, *names: str) -> None:
        for name in names:
            if np.isnan(getattr(self, name)):
                raise ConfigError(
                    f"params.{name}", float("nan"), "must be known (not NaN) for this law"
                )


#: Table 2 (App. K) of the paper, as reported identically by two secondary
#: sources.  Fitted to one architecture (OLMo-style), one data set
#: (Dolma v1.7) and integer fake quantization: NOT transferable to other
#: models or data.  Offsets and the unified-law C_x are unknown (defaults).
PAPER_PARAMS = LawParams(
    A=4.299e3,
    alpha=0.4965,
    B=1.806e4,
    beta=0.4965,
    E=2.7648,
    gamma_w=2.6745,
    gamma_a=2.2102,
    gamma_kv=0.9578,
    C_T=0.0598,
    gamma_D=0.5068,
    gamma_N=0.3439,
    gamma_post=0.5907,
    source="Kumar et al. 2024, App. K Table 2 (not transferable; offsets and C_x unknown)",
)


# ----------------------------------------------------------------------------
# input checks


def _count(name: str, x) -> np.ndarray:
    return check_array(name, x, positive=True)


def _same_shape(**arrays) -> None:
    """ConfigError naming the first argument whose shape does not broadcast with those before."""
    shape: tuple = ()
    seen = []
    for name, a in arrays.items():
        if a is None:
            continue
        sh = np.shape(a)
        try:
            shape = np.broadcast_shapes(shape, sh)
        except ValueError:
            before = ", ".join(f"{n} {s}" for n, s in seen)
            raise ConfigError(
                name, f"array of shape {sh}", f"must broadcast with {before} (NumPy rules)"
            ) from None
        seen.append((name, sh))


def _bits(name: str, P) -> np.ndarray:
    """Bits as float64, ``None`` -> inf; every entry must be >= 1."""
    if P is None:
        return np.asarray(np.inf)
    arr = check_array(name, P, finite=False)
    if arr.size and np.any(arr < 1):
        raise ConfigError(name, P, "precision must be >= 1 bit (inf or None: high precision)")
    return arr


# ----------------------------------------------------------------------------
# the laws


def precision_factor(P, gamma, shift=0.0) -> np.ndarray:
    """Saturating precision factor 1 - exp(-(P - shift)/gamma).

    Eq. 3 of docs/precision_scaling.md, "The laws".

    Parameters
    ----------
    P : array_like or None
        Precision in bits (>= 1); ``None`` or ``inf`` gives 1.
    gamma : array_like
        Sensitivity in bits (> 0, finite).
    shift : array_like
        Offset n in bits; the factor is 0 for P <= n.

    Returns
    -------
    numpy.ndarray, shape: the broadcast shape of P, gamma, shift
        Values in [0, 1).
    """
    P = _bits("P", P)
    gamma = check_array("gamma", gamma, positive=True)
    shift = check_array("shift", shift)
    _same_shape(P=P, gamma=gamma, shift=shift)
    return _factor(P, gamma, shift)


# the private kernels below take validated arrays (the public functions check once)


def _factor(P, gamma, shift) -> np.ndarray:
    """1 - exp(-(P - shift)/gamma), 1 at P = inf, 0 for P <= shift."""
    with np.errstate(invalid="ignore", over="ignore"):
        f = -np.expm1(-(P - shift) / gamma)
    f = np.where(np.isinf(P), 1.0, f)
    return np.where(P <= shift, 0.0, f)


def _training_bits(P_w, P_a, P_kv) -> dict:
    """family -> validated bits (None: high precision, no factor)."""
    given = zip(FAMILIES, (P_w, P_a, P_kv), strict=True)
    return {f: None if P is None else _bits(f"P_{f}", P) for f, P in given}


def _n_eff(N, bits: dict, params: LawParams) -> np.ndarray:
    """N_eff of validated N and :func:`_training_bits`."""
    _same_shape(N=N, **{f"P_{f}": P for f, P in bits.items() if P is not None})
    f = np.asarray(1.0)
    for fam, P in bits.items():
        if P is not None:
            f = f * _factor(P, _gamma(params, fam), params.shift(fam))
    return N * f


def _gamma(params: LawParams, fam: str) -> float:
    g = params.gamma(fam)
    if not (np.isfinite(g) and g > 0):
        raise ConfigError(f"params.gamma_{fam}", g, "must be a positive number (not fitted?)")
    return g


def n_eff(N, P_w=None, P_a=None, P_kv=None, params: LawParams = PAPER_PARAMS) -> np.ndarray:
    """Effective parameter count of quantized training (Eqs. 3-4).

    Equations of docs/precision_scaling.md, "The laws".

    N_eff = N (1 - e^(-P_w/gamma_w)) (1 - e^(-P_a/gamma_a)) (1 - e^(-P_kv/gamma_kv)),
    with the offsets of ``params`` subtracted from P (0 by default).  A
    family given as ``None`` (or ``inf``) is in high precision (factor 1).

    Parameters
    ----------
    N : array_like
        Non-embedding parameters, > 0.
    P_w, P_a, P_kv : array_like or None
        Training precisions in bits, >= 1.
    params : LawParams

    Returns
    -------
    numpy.ndarray
        N_eff with the broadcast shape of the inputs.
    """
    return _n_eff(_count("N", N), _training_bits(P_w, P_a, P_kv), params)


def loss(N, D, P_w=None, P_a=None, P_kv=None, params: LawParams = PAPER_PARAMS) -> np.ndarray:
    """Loss of (quantized) training, L = A N_eff^-alpha + B D^-beta + E (Eqs. 1, 3, 4).

    With every precision ``None`` this is the Chinchilla law (Eq. 1).  Equations
    of docs/precision_scaling.md, "The laws".

    Parameters
    ----------
    N, D : array_like
        Non-embedding parameters and training tokens, > 0.
    P_w, P_a, P_kv : array_like or None
        Training precisions in bits (>= 1); ``None``: high precision.
    params : LawParams

    Returns
    -------
    numpy.ndarray, shape: the broadcast shape of the inputs
        Loss in nats/token.
    """
    D = _count("D", D)
    return _loss(_count("N", N), D, _training_bits(P_w, P_a, P_kv), params)


def _loss(N, D, bits: dict, params: LawParams) -> np.ndarray:
    """:func:`loss` of validated N, D and :func:`_training_bits`."""
    params._known("A", "alpha", "B", "beta", "E")
    _same_shape(N=N, D=D)
    Ne = _n_eff(N, bits, params)
    _same_shape(N_eff=Ne, D=D)
    with np.errstate(divide="ignore"):
        return params.A * Ne ** (-params.alpha) + params.B * D ** (-params.beta) + params.E


def delta_ptq(N, D, P_post, params: LawParams = PAPER_PARAMS) -> np.ndarray:
    """Loss rise from post-train weight quantization (Eq. 2).

    Eq. 2 of docs/precision_scaling.md, "The laws".

    delta_PTQ = C_T D^gamma_D N^-gamma_N exp(-P_post / gamma_post).

    Parameters
    ----------
    N, D : array_like
        > 0, counted raw (not in millions).
    P_post : array_like
        Post-training precision in bits, >= 1 (``inf``: no quantization, 0).
    params : LawParams

    Returns
    -------
    numpy.ndarray, shape: the broadcast shape of N, D, P_post
        delta_PTQ in nats/token.
    """
    N, D = _count("N", N), _count("D", D)
    P = _bits("P_post", P_post)
    _same_shape(N=N, D=D, P_post=P)
    with np.errstate(over="ignore"):
        return (
            params.C_T * D**params.gamma_D * N ** (-params.gamma_N) * np.exp(-P / params.gamma_post)
        )


def delta_ptq_unified(
    N,
    D,
    P_post,
    P_w=None,
    P_a=None,
    P_kv=None,
    params: LawParams = PAPER_PARAMS,
    quantized=("w",),
) -> np.ndarray:
    """Post-train degradation of a model trained in low precision (Section 5 of arXiv 2411.04330).

    delta = C_T e^(-P_post/gamma_post) D^gamma_D N_eff^-gamma_N
            prod_{x in quantized} [1 - e^(-C_x (P_x - P_post))],

    with N_eff from the training precisions (Eq. 4).  The product is the
    "robustification" factor: it is applied only to the families that PTQ
    quantizes (``quantized``, weights by default), is clipped to 0 when
    P_x <= P_post (quantizing to at least the training precision costs
    nothing), and is 1 for a family trained in high precision (P_x ``None``) or
    with C_x = inf.

    Parameters
    ----------
    N, D : array_like
        > 0.
    P_post : array_like
        Post-training precision in bits, >= 1.
    P_w, P_a, P_kv : array_like or None
        Training precisions in bits (>= 1).
    params : LawParams
        Uses C_w, C_a, C_kv (unknown for the paper: ``inf`` by default).
    quantized : sequence of {"w", "a", "kv"}

    Returns
    -------
    numpy.ndarray, shape: the broadcast shape of the inputs
        delta_PTQ in nats/token.
    """
    N, D = _count("N", N), _count("D", D)
    P = _bits("P_post", P_post)
    return _delta_unified(N, D, P, _training_bits(P_w, P_a, P_kv), params, quantized)


def _delta_unified(N, D, P, bits: dict, params: LawParams, quantized=("w",)) -> np.ndarray:
    """:func:`delta_ptq_unified` of validated N, D, P_post and :func:`_training_bits`."""
    _same_shape(N=N, D=D, P_post=P)
    Ne = _n_eff(N, bits, params)
    _same_shape(N_eff=Ne, D=D, P_post=P)
    with np.errstate(divide="ignore", over="ignore"):
        out = params.C_T * np.exp(-P / params.gamma_post) * D**params.gamma_D * Ne**-params.gamma_N
    for fam in quantized:
        if fam not in bits:
            raise ConfigError("quantized", quantized, "entries must be 'w', 'a' or 'kv'")
        Px = bits[fam]
        if Px is None:
            continue
        C = float(getattr(params, f"C_{fam}"))
        gap = np.maximum(Px - P, 0.0)
        with np.errstate(invalid="ignore"):
            rob = -np.expm1(-C * gap) if np.isfinite(C) else np.where(gap > 0, 1.0, 0.0)
        rob = np.where(np.isinf(Px), 1.0, rob)
        out = out * rob
    return out


def loss_total(
    N, D, P_post=None, P_w=None, P_a=None, P_kv=None, params: LawParams = PAPER_PARAMS
) -> np.ndarray:
    """Unified law: loss after training at (P_w, P_a, P_kv) and PTQ to P_post (Section 5).

    L = A N_eff^-alpha + B D^-beta + E + delta_PTQ(N_eff, D, P_train, P_post),
    the second term from :func:`delta_ptq_unified` (weights post-train
    quantized, robustified by the weights' training precision).

    Parameters
    ----------
    N, D : array_like
        Non-embedding parameters and training tokens, > 0.
    P_post : array_like or None
        Post-training weight precision in bits (>= 1); ``None``: no
        post-train quantization (the result is :func:`loss`).
    P_w, P_a, P_kv : array_like or None
        Training precisions in bits (>= 1); ``None``: high precision.
    params : LawParams
        Needs the Chinchilla constants, the gammas of the families given and
        the PTQ constants (C_w only matters when it is finite).

    Returns
    -------
    numpy.ndarray
        Loss in nats/token, with the broadcast shape of the inputs.
    """
    N, D = _count("N", N), _count("D", D)
    bits = _training_bits(P_w, P_a, P_kv)
    base = _loss(N, D, bits, params)
    if P_post is None:
        return base
    return base + _delta_unified(N, D, _bits("P_post", P_post), bits, params)


def critical_data(N, P_post, params: LawParams = PAPER_PARAMS) -> np.ndarray:
    """Critical data size beyond which more data raises the post-PTQ loss (Eq. 13; App. E.1).

    The stationary point of B D^-beta + delta_PTQ(N, D, P_post) in D:

        D_crit = [beta B N^gamma_N e^(P_post/gamma_post) / (gamma_D C_T)]^(1/(gamma_D + beta)).

    Parameters
    ----------
    N : array_like
        > 0.
    P_post : array_like
        Bits, >= 1.
    params : LawParams
        Needs gamma_D > 0 and C_T > 0.

    Returns
    -------
    numpy.ndarray, shape: the broadcast shape of N, P_post
        Tokens (``inf`` where P_post is ``inf``).
    """
    N = _count("N", N)
    P = _bits("P_post", P_post)
    _same_shape(N=N, P_post=P)
    params._known("B", "beta")
    if not (params.gamma_D > 0 and params.C_T > 0):
        raise ConfigError("params", (params.gamma_D, params.C_T), "need gamma_D > 0 and C_T > 0")
    p = params
    with np.errstate(over="ignore"):
        log_d = (
            np.log(p.beta * p.B / (p.gamma_D * p.C_T)) + p.gamma_N * np.log(N) + P / p.gamma_post
        ) / (p.gamma_D + p.beta)
        return np.exp(log_d)


def chinchilla_ratio(P=None, params: LawParams = PAPER_PARAMS, families=FAMILIES) -> np.ndarray:
    """Compute-optimal tokens per parameter D*/N* with ``families`` at P bits (Eqs. 1, 4).

    Minimising A (N f)^-alpha + B D^-beta at fixed N D gives
    N*^(alpha+beta) = alpha A f^-alpha / (beta B) (N D)^beta, so D*/N* is
    independent of the budget only when alpha = beta (the paper ties them):
    D*/N* = (B / (A f^-alpha))^(1/alpha).  Low precision (f < 1) lowers it:
    larger models on fewer tokens.

    Parameters
    ----------
    P : array_like or None
        Shared precision in bits (>= 1); ``None``: high precision (f = 1).
    params : LawParams
        Must have alpha = beta.
    families : sequence of {"w", "a", "kv"}

    Returns
    -------
    numpy.ndarray, shape: the shape of P (0-d without P)
        D*/N*.
    """
    if not np.isclose(params.alpha, params.beta):
        raise ConfigError("params", (params.alpha, params.beta), "needs alpha = beta")
    f = np.asarray(1.0) if P is None else _family_factor(_bits("P", P), params, families)
    a = params.alpha
    return (params.B / (params.A * f ** (-a))) ** (1.0 / a)


def _family_factor(P, params: LawParams, families) -> np.ndarray:
    f = np.ones_like(np.asarray(P, dtype=float))
    for fam in families:
        if fam not in FAMILIES:
            raise ConfigError("families", families, "entries must be 'w', 'a' or 'kv'")
        f = f * _factor(P, _gamma(params, fam), params.shift(fam))
    return f


def p_star_closed_form(gamma, k: int = 3) -> np.ndarray:
    """Compute-optimal precision for f(P) = (1 - e^(-P/gamma))^k (Eq. 5).

    Under C proportional to N D P the optimal loss depends on P only through
    P / f(P) (for any alpha, beta), so P* maximises f(P)/P: with u = P/gamma,
    k u e^-u = 1 - e^-u.  For k = 3, u* = 1.9038.

    Parameters
    ----------
    gamma : array_like
        > 0.
    k : int
        Number of families sharing gamma (>= 1).

    Returns
    -------
    numpy.ndarray, shape: the shape of gamma
        P* = gamma u* in bits.
    """
    gamma = check_array("gamma", gamma, positive=True)
    if k < 2:
        # f/P = (1 - e^-u)/u is decreasing: the optimum is the lowest precision
        raise ConfigError("k", k, "f(P)/P has an interior maximum only for k >= 2")
    res = find_root(
        lambda u: k * u * np.exp(-u) - (-np.expm1(-u)),
        np.array([1e-3]),
        np.array([50.0]),
        what="k u e^-u = 1 - e^-u",
    )
    # the root of g(u) = k u e^-u - (1 - e^-u) on (0, inf) with g > 0 below it
    return gamma * float(res.x[0])


@dataclass(frozen=True)
class ComputeOptimal:
    """Compute-optimal allocation under C = (6/16) N D P (Eq. 5).

    Attributes
    ----------
    N, D, P, loss : numpy.ndarray
        Optimal non-embedding parameters, tokens, precision (bits) and the
        loss there; broadcast shape of the budgets.
    at_boundary : numpy.ndarray of bool
        Same shape: True where P is an end of the search range ``P_range``
        (within 1e-6 bits), i.e. not an interior optimum (a
        :class:`BoundaryOptimumWarning` was issued).
    """

    N: np.ndarray
    D: np.ndarray
    P: np.ndarray
    loss: np.ndarray
    at_boundary: np.ndarray | None = None


def _alloc(C, P, params: LawParams, families):
    """Optimal N, D and loss at precision P for budget C (joint over N, D)."""
    p = params
    f = _family_factor(P, p, families)
    Cp = 16.0 * C / (6.0 * P)  # N D
    with np.errstate(divide="ignore"):
        Aeff = p.A * np.where(f > 0, f, np.nan) ** (-p.alpha)
    N = (p.alpha * Aeff / (p.beta * p.B)) ** (1 / (p.alpha + p.beta)) * Cp ** (
        p.beta / (p.alpha + p.beta)
    )
    D = Cp / N
    L = Aeff * N ** (-p.alpha) + p.B * D ** (-p.beta) + p.E
    return N, D, np.where(f > 0, L, np.inf)


def compute_optimal(
    C,
    params: LawParams = PAPER_PARAMS,
    fixed_N=None,
    *,
    families=FAMILIES,
    P_range=(1.0, 32.0),
    grid_step: float = 0.05,
) -> ComputeOptimal:
    """Optimal (N, D, P) for a compute budget C = (6/16) N D P (Eq. 5).

    Eq. 5 of docs/precision_scaling.md, "The laws".

    ``families`` are trained at the shared precision P (all three by default,
    the paper's setting); the others stay in high precision.

    * **joint** (``fixed_N=None``): for each P the optimal N
      and D are closed-form (N* = [alpha A f^-alpha/(beta B)]^(1/(alpha+beta))
      C'^(beta/(alpha+beta)), C' = 16 C/(6 P), D* = C'/N*); the loss is then
      minimised over P on a 0.05-bit grid and refined by golden section.  The
      optimum depends on P only through P/f(P), hence not on C.
    * **fixed N** (``fixed_N`` given): D = 16 C / (6 N P), loss
      minimised over P; P* grows roughly like gamma beta ln C.

    Parameters
    ----------
    C : array_like
        Budgets in FLOPs (> 0).
    params : LawParams
    fixed_N : array_like, optional
        Non-embedding parameters held fixed (broadcast with C).
    families : sequence of {"w", "a", "kv"}
    P_range : (float, float)
        Search interval for P in bits (lower end >= 1).
    grid_step : float
        Grid spacing in bits before refinement (> 0).

    Returns
    -------
    ComputeOptimal
        Arrays N, D, P, loss, at_boundary of shape: the broadcast shape of C
        (and fixed_N); ``at_boundary`` flags budgets whose P* is an end of
        ``P_range``.

    Warns
    -----
    BoundaryOptimumWarning
        If any P* lies on an end of ``P_range`` (within 1e-6 bits): it is then
        the search limit, not an optimum.  This happens for a single family
        (``families=("w",)``: f(P)/P is monotone, P* = lower end), and at
        fixed N for budgets too small (P* = 1) or too large (P* = upper end)
        for that N.  Widen ``P_range`` or read ``at_boundary``.
    """
    C = _count("C", C)
    params._known("A", "alpha", "B", "beta", "E")
    try:
        lo, hi = float(P_range[0]), float(P_range[1])
    except (TypeError, ValueError, IndexError):
        raise ConfigError("P_range", P_range, "a pair (low, high) of bits") from None
    if not (1.0 <= lo < hi < np.inf):
        raise ConfigError("P_range", P_range, "need 1 <= low < high < inf")
    if not (np.isfinite(grid_step) and 0 < grid_step <= hi - lo):
        raise ConfigError("grid_step", grid_step, f"need 0 < grid_step <= {hi - lo:g}")
    for fam in families:
        if fam not in FAMILIES:
            raise ConfigError("families", families, "entries must be 'w', 'a' or 'kv'")
    if fixed_N is not None:
        Nf = _count("fixed_N", fixed_N)
        C, Nf = np.broadcast_arrays(C, Nf)
    shape = C.shape
    Cf = C.ravel()
    grid = np.arange(lo, hi + 1e-9, grid_step)

    if fixed_N is None:

        def objective(P, c):
            return _alloc(c, P, params, families)[2]

    else:
        Nflat = Nf.ravel()

        def objective(P, c, n=None):
            n = Nflat if n is None else n
            f = _family_factor(P, params, families)
            D = 16.0 * c / (6.0 * n * P)
            with np.errstate(divide="ignore", invalid="ignore"):
                L = params.A * (n * f) ** (-params.alpha) + params.B * D ** (-params.beta)
            return np.where(f > 0, L + params.E, np.inf)

    vals = np.stack([objective(np.full_like(Cf, P), Cf) for P in grid])  # (G, B)
    i = np.argmin(vals, axis=0)
    a = grid[np.maximum(i - 1, 0)]
    b = grid[np.minimum(i + 1, grid.size - 1)]
    Pst, Lst = minimize_scalar(lambda P: objective(P, Cf), a, b, xtol=1e-10)
    if fixed_N is None:
        N, D, L = _alloc(Cf, Pst, params, families)
    else:
        N = Nflat
        D = 16.0 * Cf / (6.0 * N * Pst)
        L = Lst
    r = lambda x: np.asarray(x, dtype=np.float64).reshape(shape)  # noqa: E731
    edge = (np.abs(Pst - lo) < 1e-6) | (np.abs(Pst - hi) < 1e-6)
    if edge.any():
        where = "lower" if np.all(np.abs(Pst[edge] - lo) < 1e-6) else "upper"
        if np.any(np.abs(Pst[edge] - lo) < 1e-6) and np.any(np.abs(Pst[edge] - hi) < 1e-6):
            where = "lower and upper"
        warnings.warn(
            f"compute_optimal: P* is on the {where} end of P_range=({lo:g}, {hi:g}) for "
            f"{int(edge.sum())} of {edge.size} budget(s): the loss still falls beyond it, so "
            "this P* is the search limit, not an optimum (see ComputeOptimal.at_boundary)",
            BoundaryOptimumWarning,
            stacklevel=2,
        )
    return ComputeOptimal(
        N=r(N), D=r(D), P=r(Pst), loss=r(L), at_boundary=edge.reshape(shape).astype(bool)
    )


def ptq_second_order_ratio(P1, P2) -> np.ndarray:
    """delta_PTQ(P1) / delta_PTQ(P2) of round-to-nearest, to second order (derived here).

    Derivation: docs/precision_scaling.md, section "A second-order law for PTQ".

    Near a trained model, a weight perturbation eps raises the loss by
    g.eps + eps^T H eps / 2.  Round-to-nearest with absmax scale
    s_c = max|w_c| / q_max(P) per group leaves errors that are (nearly)
    uniform on [-s_c/2, s_c/2], mean zero and independent of the weights, so
    E[delta] = sum_i H_ii s_c(i)^2 / 24 + o(s^2): every model-dependent factor
    cancels in a ratio and

        delta(P1) / delta(P2) = (q_max(P2) / q_max(P1))^2,   q_max(P) = 2^(P-1) - 1.

    For large P this is 4^(P2 - P1): delta ~ exp(-P / gamma_post) with
    gamma_post -> 1 / ln 4 = 0.721 bits (the paper fits 0.5907, between this
    asymptote and the 3 -> 4 bit value 1 / ln (7/3)^2 = 0.590).

    Parameters
    ----------
    P1, P2 : array_like
        Bits, >= 2.

    Returns
    -------
    numpy.ndarray, shape: the broadcast shape of P1, P2
        delta(P1) / delta(P2).
    """
    P1 = _bits("P1", P1)
    P2 = _bits("P2", P2)
    for name, P in (("P1", P1), ("P2", P2)):
        if np.any(P < 2):
            raise ConfigError(name, P, "symmetric integer quantization needs >= 2 bits")
    qm = lambda P: 2.0 ** (P - 1.0) - 1.0  # noqa: E731
    return (qm(P2) / qm(P1)) ** 2
