"""The one-hidden-layer MLP on same-different tasks, trained for real (JAX + optax).

Model (docs/equality_reasoning.md, section "Model"): width N, ReLU, no biases,

    F(x) = (1/N) sum_i a_i relu(w_i . x),   w_i ~ N(0, I_D),  a_i ~ N(0, 1),
    f(x) = (F(x) - F_0(x)) / gamma,

trained by SGD on the binary cross-entropy of the logit f, batch B, with the
effective learning rate lr_eff = eta0 gamma^2 N (mean-field) or eta0 gamma^2
(NTK-style).  Richness: gamma = gamma0 sqrt(d) (mean-field; d the symbol
dimension) or gamma = gamma0 sqrt(N) (NTK-style).

Implementation (exactly the model above, reorganised for speed and for float32):

* The parameters are written theta = theta_0 + gamma u and SGD runs on u with
  learning rate lr_eff / gamma^2; the centred output is computed in closed form,
  ``(relu(h + gamma v) - relu(h)) / gamma = max(v, -h/gamma)`` for h > 0 and
  ``max(v + h/gamma, 0)`` otherwise (h = w_0 . x, v = u_w . x), so there is no
  cancellation between F and F_0 even at gamma = 1e-5 in float32.
* An input is two symbols placed in two distinct slots of ``S`` slots of width
  ``P`` (symbolic task: 2 slots; PSVRT: 9 cells of a 3 x 3 grid).  A training
  symbol is one of L table rows, so the preactivations of a clean training batch
  are gathered from per-(slot, symbol) tables: (S, L_pad, N) products per step
  instead of a (B, S P) x (S P, N) product.  Noisy inputs add the noise's
  product densely.
* Every configuration of a geometry (S, P, N, batch, steps, L_pad) goes through
  one compiled function: d, L, gamma, the learning rate and the noise are traced
  values (symbols padded to P coordinates and L_pad rows), and the seeds are
  vmapped.  The quick preset compiles it twice: once for the symbolic task and
  once for PSVRT.

Keys come from :class:`theorylab.core.experiment.Seed` only.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pandas as pd

from theorylab.core.errors import ConfigError
from theorylab.core.experiment import Seed
from theorylab.core.train import check_finite

from .theory import _integer, _number

__all__ = [
    "Geometry",
    "Run",
    "cell_major_order",
    "per_seed_table",
    "psvrt_geometry",
    "psvrt_image",
    "readout_ratio",
    "richness",
    "run_mlp",
    "symbolic_geometry",
    "train_mlp",
    "train_psvrt",
]

STUDY_ID = "equality_reasoning"
_COMPILED: dict = {}  # static signature -> compiled executable (one compile per process)
GAUSSIAN, BITS = 0, 1  # symbol distributions: N(0, I/d) vectors, +-1/sqrt(p) bit patches


@dataclass(frozen=True)
class Geometry:
    """Static shapes of one compiled training function.

    Attributes
    ----------
    slots : int
        Slots S of the input (2 for the symbolic task, 9 for a 3 x 3 PSVRT grid).
    width : int
        Coordinates P per slot (symbols are zero-padded to P).
    L_pad : int
        Rows of the padded symbol table (every L must be <= L_pad).
    noisy : bool
        Also compile the input-noise path (dense products with the noisy
        inputs); a configuration takes it only when its sigma2 > 0 (a
        ``lax.cond`` on an un-vmapped value: clean configurations still use
        the tables).  A noise-free geometry rejects sigma2 > 0.
    batch : int
        Training batch size (decides whether tables pay off).
    """

    slots: int
    width: int
    L_pad: int
    noisy: bool = False
    batch: int = 128

    @property
    def D(self) -> int:
        """Input dimension S * P."""
        return self.slots * self.width

    @property
    def tables(self) -> bool:
        """Gather clean preactivations from (slot, symbol) tables (cheaper than x @ W^T).

        A table costs S L_pad N P multiply-adds per step, the dense product B S P N.
        """
        return self.L_pad <= self.batch


def richness(gamma0, d: int, N: int, scaling: str = "mean_field"):
    """The output scale gamma and the SGD rate factor of a richness setting.

    Parameters
    ----------
    gamma0 : float
        Richness (> 0).
    d : int
        Symbol dimension.
    N : int
        Width.
    scaling : {"mean_field", "ntk", "plain"}
        ``mean_field``: gamma = gamma0 sqrt(d), lr_eff = eta0 gamma^2 N;
        ``plain``: gamma = gamma0 (the sqrt(d) dropped: the same gamma0 is
        lazier at larger d), lr_eff = eta0 gamma^2 N;
        ``ntk``: gamma = gamma0 sqrt(N), lr_eff = eta0 gamma^2.

    Returns
    -------
    (float, float)
        gamma and the learning rate of u = (theta - theta_0) / gamma in units of
        eta0 (N for mean-field, 1 for NTK-style).
    """
    _number("gamma0", gamma0, lo=0.0, strict=True)
    if scaling == "mean_field":
        return float(gamma0) * np.sqrt(d), float(N)
    if scaling == "ntk":
        return float(gamma0) * np.sqrt(N), 1.0
    if scaling == "plain":
        return float(gamma0), float(N)
    raise ConfigError("scaling", scaling, "must be 'mean_field', 'ntk' or 'plain'")


def readout_ratio(a) -> float:
    """The readout ratio |mean of the negative a_i| / mean of the positive a_i.

    The rich-regime accuracy formula assumes 1.5 (docs/equality_reasoning.md,
    section "Rich regime").

    Parameters
    ----------
    a : array_like, shape (N,)
        Readout weights of one trained network.

    Returns
    -------
    float
        The ratio (nan when one sign is missing).
    """
    a = np.asarray(a, dtype=float)
    pos, neg = a[a > 0], a[a < 0]
    if not pos.size or not neg.size:
        return float("nan")
    return float(-neg.mean() / pos.mean())


# -- the compiled training function ------------------------------------------------------------


def _draw(key, n: int, p, width: int, kind):
    """(n, width) symbols with p live coordinates: N(0, I/p) or +-1/sqrt(p) bits."""
    z = jax.random.normal(key, (n, width))
    z = jnp.where(kind == BITS, jnp.sign(z), z) / jnp.sqrt(p.astype(z.dtype))
    return jnp.where(jnp.arange(width)[None] < p, z, 0.0)


def _indices(bits, L, n_slots):
    """Labels, symbol pair and slot pair of a batch from (4, B) random words."""
    y = (bits[0] >> 31).astype(bool)
    b = bits & jnp.uint32(0x7FFFFFFF)
    i0 = (b[0] % L).astype(jnp.int32)
    i1 = ((i0 + 1 + b[1] % (L - 1)) % L).astype(jnp.int32)
    i1 = jnp.where(y, i0, i1)
    s1 = (b[2] % n_slots).astype(jnp.int32)
    s2 = ((s1 + 1 + b[3] % (n_slots - 1)) % n_slots).astype(jnp.int32)
    return y.astype(jnp.float32), i0, i1, s1, s2


def _place(z1, z2, s1, s2, slots: int):
    """(n, S * P) inputs with z1 in slot s1 and z2 in slot s2."""
    oh1 = jax.nn.one_hot(s1, slots)[:, :, None]
    oh2 = jax.nn.one_hot(s2, slots)[:, :, None]
    x = oh1 * z1[:, None, :] + oh2 * z2[:, None, :]
    return x.reshape(z1.shape[0], -1)


def _centred(h, v, ua, a0, gamma):
    """f = (F(theta_0 + gamma u) - F(theta_0)) / gamma from h = w_0.x and v = u_w.x."""
    g = jnp.where(h > 0, jnp.maximum(v, -h / gamma), jnp.maximum(v + h / gamma, 0.0))
    return jnp.mean(ua * jax.nn.relu(h + gamma * v) + a0 * g, axis=-1)


def _noise(key, sigma2, p, shape, width: int):
    mask = jnp.arange(width) < p
    return jax.random.normal(key, shape) * jnp.sqrt(sigma2 / p) * mask


def _np_centred(h, v, ua, a0, gamma: float):
    """NumPy twin of :func:`_centred` (float64)."""
    g = np.where(h > 0, np.maximum(v, -h / gamma), np.maximum(v + h / gamma, 0.0))
    return np.mean(ua * np.maximum(h + gamma * v, 0.0) + a0 * g, axis=-1)


def _np_draw(rng, n: int, run: Run, width: int) -> np.ndarray:
    z = rng.standard_normal((n, width))
    if run.kind == BITS:
        z = np.sign(z)
    z[:, run.d :] = 0.0
    return z / np.sqrt(run.d)


def _measure(net: dict, run: Run, geo: Geometry, rng, n_test: int) -> dict:
    """Accuracies on fresh and training symbols and the weight structure, on the host.

    Evaluated in float64 NumPy (outside the compiled function, which keeps
    its compile short): ``n_test`` fresh-symbol (unseen) and ``n_test``
    training-symbol (seen) pairs, half of each "same"; the readouts, the
    cosine of each unit's slot-0 and slot-1 weights and |W - W_0| / |W_0|.
    """
    Uw, ua, W0, a0, sym = (np.asarray(net[k], dtype=float) for k in ("Uw", "ua", "W0", "a0", "sym"))
    gamma, n, L, S = run.gamma, n_test, run.L, run.n_slots
    y = np.arange(2 * n) % 2 == 0
    i0 = rng.integers(L, size=2 * n)
    i1 = np.where(y, i0, (i0 + 1 + rng.integers(L - 1, size=2 * n)) % L)
    s1 = rng.integers(S, size=2 * n)
    s2 = (s1 + 1 + rng.integers(S - 1, size=2 * n)) % S
    f1, f2 = _np_draw(rng, n, run, geo.width), _np_draw(rng, n, run, geo.width)
    z1 = np.concatenate([f1, sym[i0[n:]]])
    z2 = np.concatenate([np.where(y[:n, None], f1, f2), sym[i1[n:]]])
    if run.sigma2 > 0:
        scale = np.sqrt(run.sigma2 / run.d) * (np.arange(geo.width) < run.d)
        z1 = z1 + scale * rng.standard_normal(z1.shape)
        z2 = z2 + scale * rng.standard_normal(z2.shape)
    x = np.zeros((2 * n, geo.slots, geo.width))
    rows = np.arange(2 * n)
    x[rows, s1] += z1
    x[rows, s2] += z2
    x = x.reshape(2 * n, geo.D)
    right = (_np_centred(x @ W0.T, x @ Uw.T, ua, a0, gamma) > 0) == y
    live = np.arange(geo.width) < run.d
    W = (W0 + gamma * Uw).reshape(-1, geo.slots, geo.width) * live
    v1, v2 = W[:, 0], W[:, 1]
    cos = np.sum(v1 * v2, 1) / np.sqrt(np.sum(v1**2, 1) * np.sum(v2**2, 1))
    used = ((np.arange(geo.slots)[:, None] < S) & live[None]).reshape(-1)
    dW = gamma * np.linalg.norm(Uw * used) / np.linalg.norm(W0 * used)
    return dict(unseen=right[:n].mean(), seen=right[n:].mean(), dW=dW, a=a0 + gamma * ua, cos=cos)


def _train_one(key, c, geo: Geometry, N: int, batch: int, steps: int, n_test: int):
    ks, ki, ka, kt, kn = jax.random.split(key, 5)
    sym = _draw(ks, geo.L_pad, c["p"], geo.width, c["kind"])
    W0 = jax.random.normal(ki, (N, geo.D))
    a0 = jax.random.normal(ka, (N,))
    gamma = c["gamma"]
    # per-(slot, symbol) preactivation table of the frozen weights: (S, L_pad, N)
    H = jnp.einsum("lp,nsp->sln", sym, W0.reshape(N, geo.slots, geo.width)) if geo.tables else None
    opt = optax.sgd(c["lr"])
    shape = (2, batch, geo.width)

    def loss(u, idx, nz):  # dense: x @ W^T with the inputs' noise
        Uw, ua = u
        _, i0, i1, s1, s2 = idx
        x = _place(sym[i0] + nz[0], sym[i1] + nz[1], s1, s2, geo.slots)
        f = _centred(x @ W0.T, x @ Uw.T, ua, a0, gamma)
        return jnp.mean(optax.sigmoid_binary_cross_entropy(f, idx[0]))

    def clean_loss(u, idx):  # noise-free: preactivations gathered from the symbol tables
        Uw, ua = u
        y, i0, i1, s1, s2 = idx
        V = jnp.einsum("lp,nsp->sln", sym, Uw.reshape(N, geo.slots, geo.width))
        f = _centred(H[s1, i0] + H[s2, i1], V[s1, i0] + V[s2, i1], ua, a0, gamma)
        return jnp.mean(optax.sigmoid_binary_cross_entropy(f, y))

    def step(carry, t):
        u, st = carry
        idx = _indices(jax.random.bits(jax.random.fold_in(kt, t), (4, batch)), c["L"], c["n_slots"])

        def dense():
            nz = _noise(jax.random.fold_in(kn, t), c["sigma2"], c["p"], shape, geo.width)
            return jax.value_and_grad(loss)(u, idx, nz)

        if not geo.tables:
            value, g = dense()
        elif geo.noisy:  # configurations are not vmapped: a real branch, not a select
            value, g = jax.lax.cond(
                c["sigma2"] > 0, dense, lambda: jax.value_and_grad(clean_loss)(u, idx)
            )
        else:
            value, g = jax.value_and_grad(clean_loss)(u, idx)
        upd, st = opt.update(g, st, u)
        return (optax.apply_updates(u, upd), st), value

    u0 = (jnp.zeros((N, geo.D)), jnp.zeros((N,)))
    (u, _), losses = jax.lax.scan(step, (u0, opt.init(u0)), jnp.arange(steps))
    return dict(Uw=u[0], ua=u[1], W0=W0, a0=a0, sym=sym, loss=losses[-100:].mean())


@partial(jax.jit, static_argnames=("geo", "N", "batch", "steps", "n_test"))
def _train_seeds(keys, c, *, geo: Geometry, N: int, batch: int, steps: int, n_test: int):
    """One configuration ``c`` (traced scalars), every seed key vmapped: the compiled core."""
    return jax.vmap(lambda k: _train_one(k, c, geo, N, batch, steps, n_test))(keys)


# -- public entry points --------------------------------------------------------------------


@dataclass(frozen=True)
class Run:
    """One training configuration (traced values of the compiled function).

    Attributes
    ----------
    d : int
        Live coordinates of a symbol (<= the geometry's slot width).
    L : int
        Training symbols (2 <= L <= the geometry's L_pad).
    gamma : float
        Output scale gamma (richness).
    lr : float
        SGD learning rate of u = (theta - theta_0) / gamma, i.e. lr_eff / gamma^2.
    sigma2 : float
        Input-noise variance sigma^2 (per coordinate sigma^2 / d).
    n_slots : int
        Slots in use (the two symbols go to two distinct ones).
    kind : int
        Symbol distribution: 0 Gaussian N(0, I/d), 1 bits +-1/sqrt(d).
    """

    d: int
    L: int
    gamma: float
    lr: float
    sigma2: float = 0.0
    n_slots: int = 2
    kind: int = GAUSSIAN

    def traced(self) -> dict:
        """The values as JAX scalars (int32 / float32)."""
        return dict(
            L=jnp.int32(self.L),
            p=jnp.int32(self.d),
            n_slots=jnp.int32(self.n_slots),
            kind=jnp.int32(self.kind),
            gamma=jnp.float32(self.gamma),
            lr=jnp.float32(self.lr),
            sigma2=jnp.float32(self.sigma2),
        )


def _pow2(n: int, least: int) -> int:
    return max(least, 1 << max(int(n) - 1, 0).bit_length())


def symbolic_geometry(d_max: int, L_max: int, *, noisy: bool = False, batch: int = 128) -> Geometry:
    """The geometry of the symbolic task for symbols up to d_max and L_max.

    Parameters
    ----------
    d_max : int
        Largest symbol dimension (slots are padded to a power of two >= 8).
    L_max : int
        Largest symbol count (the table is padded to a power of two >= 4).
    noisy : bool
        Compile the input-noise path.
    batch : int
        Training batch size.

    Returns
    -------
    Geometry
        Two slots; every configuration within the limits shares one compile.
        The cost of a step grows with the padded sizes, so group
        configurations of similar d and L.
    """
    return Geometry(slots=2, width=_pow2(d_max, 8), L_pad=_pow2(L_max, 4), noisy=noisy, batch=batch)


def psvrt_geometry(
    n_train_max: int, n_patches: int = 3, patch: int = 5, *, batch: int = 128
) -> Geometry:
    """The geometry of PSVRT images: n_patches^2 cells of patch x patch bits.

    Parameters
    ----------
    n_train_max : int
        Largest training-pattern count (table padded to a power of two >= 4).
    n_patches : int
        Cells per side (3: a 15 x 15 image with 5 x 5 patches).
    patch : int
        Patch side in pixels.
    batch : int
        Training batch size.

    Returns
    -------
    Geometry
    """
    return Geometry(slots=n_patches**2, width=patch**2, L_pad=_pow2(n_train_max, 4), batch=batch)


def _seeds(seeds) -> list[Seed]:
    """Seeds as :class:`Seed` objects (ints are wrapped as seeds of ``train_mlp``)."""
    out = []
    for s in seeds:
        if not isinstance(s, Seed):
            if isinstance(s, bool) or not isinstance(s, int | np.integer) or s < 0:
                raise ConfigError("seeds", s, "must be Seed objects or non-negative integers")
            s = Seed(STUDY_ID, "train_mlp", int(s))
        out.append(s)
    if not out:
        raise ConfigError("seeds", seeds, "needs at least one seed")
    return out


def _keys(seeds, path: str):
    """One key per seed: ``Seed.key(path)``."""
    return jnp.stack([s.key(path) for s in _seeds(seeds)])


def run_mlp(
    runs,
    seeds,
    *,
    geo: Geometry,
    N: int,
    batch: int,
    steps: int,
    n_test: int = 4096,
    path: str = "mlp",
    workers: int | None = None,
) -> list[dict[str, np.ndarray]]:
    """Train every configuration for every seed: the one compiled function per geometry.

    The configurations are traced values, so they share one compile; they run
    on ``workers`` threads (XLA releases the GIL; two threads on two cores
    halve the wall time), each vmapped over the seeds.  Arguments are
    validated by the callers (:func:`train_mlp`, :func:`train_psvrt`, the
    experiments' parameter classes).

    Parameters
    ----------
    runs : sequence of Run
        The configurations.
    seeds : sequence of Seed or int
        One network per seed; its key is ``seed.key(path)``, so configurations
        trained with the same seeds share symbols and initial weights (paired).
    geo : Geometry
        Static shapes (slots, slot width, symbol-table rows).
    N, batch, steps : int
        Width, batch size, SGD steps.
    n_test : int
        Test pairs for each accuracy.
    path : str
        Name of the key stream.
    workers : int, optional
        Threads (default: min(2, CPU count)).

    Returns
    -------
    list of dict of numpy.ndarray
        Per configuration: ``unseen``, ``seen`` (accuracies on fresh / training
        symbols), ``dW`` (|W - W_0| / |W_0|), ``loss`` (training loss of the
        last 100 steps), each of shape (n_seeds,); ``a`` and ``cos`` (readouts
        and cos(v_i^1, v_i^2) of slots 0 and 1), shape (n_seeds, N);
        ``symbols``, shape (n_seeds, L_pad, width).
    """
    from concurrent.futures import ThreadPoolExecutor

    seeds = list(seeds)
    keys = _keys(seeds, path)
    runs = list(runs)
    if not runs:
        return []
    if batch != geo.batch:
        raise ConfigError("batch", batch, f"must equal the geometry's batch {geo.batch}")
    for r in runs:
        if not (1 <= r.d <= geo.width and 2 <= r.L <= geo.L_pad and 2 <= r.n_slots <= geo.slots):
            raise ConfigError("runs", r, f"outside the geometry {geo}")
        if r.sigma2 > 0 and not geo.noisy:
            raise ConfigError("sigma2", r.sigma2, "needs a noisy geometry (noisy=True)")
    statics = dict(geo=geo, N=N, batch=batch, steps=steps, n_test=n_test)
    signature = (geo, N, batch, steps, n_test, len(seeds))
    if signature not in _COMPILED:  # compiled ahead of time, once, before the threads start
        _COMPILED[signature] = _train_seeds.lower(keys, runs[0].traced(), **statics).compile()
    compiled = _COMPILED[signature]

    seed_objs = _seeds(seeds)

    def one(run: Run) -> dict[str, np.ndarray]:
        nets = compiled(keys, run.traced())
        nets = {k: np.asarray(v, dtype=float) for k, v in nets.items()}
        check_finite(nets["loss"].reshape(1, -1), "same-different MLP SGD")
        per = [
            _measure({k: v[i] for k, v in nets.items()}, run, geo, s.rng(path, "test"), n_test)
            for i, s in enumerate(seed_objs)
        ]
        out = {k: np.stack([m[k] for m in per]) for k in per[0]}
        return out | dict(loss=nets["loss"], symbols=nets["sym"])

    workers = workers or min(2, os.cpu_count() or 1)
    if workers == 1 or len(runs) <= 1:
        return [one(r) for r in runs]
    with ThreadPoolExecutor(workers) as pool:
        return list(pool.map(one, runs))


def per_seed_table(out: dict[str, np.ndarray], seeds) -> pd.DataFrame:
    """The per-seed metrics of one configuration as a table.

    Parameters
    ----------
    out : dict of numpy.ndarray
        One entry of :func:`run_mlp`'s list (arrays of shape (n_seeds,) and
        (n_seeds, N)).
    seeds : sequence of Seed or int, length n_seeds

    Returns
    -------
    pandas.DataFrame
        One row per seed: ``seed``, ``unseen``, ``seen``, ``weight_change``,
        ``corr_a_cos`` (corr(a_i, cos(v_i^1, v_i^2)) over the hidden units),
        ``readout_ratio`` and ``loss``.
    """
    corr = [float(np.corrcoef(a, c)[0, 1]) for a, c in zip(out["a"], out["cos"], strict=True)]
    return pd.DataFrame(
        {
            "seed": [s.seed if isinstance(s, Seed) else int(s) for s in seeds],
            "unseen": out["unseen"],
            "seen": out["seen"],
            "weight_change": out["dW"],
            "corr_a_cos": corr,
            "readout_ratio": [readout_ratio(a) for a in out["a"]],
            "loss": out["loss"],
        }
    )


def _check_training(N, steps, batch, n_test, eta0, gamma0) -> None:
    _integer("N", N, 1, 1 << 16)
    _integer("steps", steps, 1, 10**6)
    _integer("batch", batch, 1, 1 << 16)
    _integer("n_test", n_test, 2, 1 << 20)
    _number("eta0", eta0, lo=0.0, strict=True)
    _number("gamma0", gamma0, lo=0.0, strict=True)


def train_mlp(
    d: int,
    L: int,
    gamma0: float,
    *,
    N: int = 256,
    steps: int = 3000,
    eta0: float = 0.1,
    batch: int = 128,
    scaling: str = "mean_field",
    seeds=(0,),
    sigma2: float = 0.0,
    n_test: int = 4096,
) -> pd.DataFrame:
    """Train the MLP on the symbolic same-different task, one network per seed.

    Symbols s_1..s_L ~ N(0, I_d / d); a training pair is two distinct symbols
    ("different") or one symbol twice ("same"), with probability 1/2 each; the
    test pairs ("unseen") use fresh symbols (docs/equality_reasoning.md,
    section "Task").

    Parameters
    ----------
    d : int
        Symbol dimension (>= 1; input dimension 2 d).
    L : int
        Training symbols (>= 2).
    gamma0 : float
        Richness (> 0): gamma = gamma0 sqrt(d) (mean-field) or gamma0 sqrt(N) (NTK-style).
    N : int
        Width.
    steps : int
        SGD steps.
    eta0 : float
        Base learning rate (> 0): lr_eff = eta0 gamma^2 N (mean-field), eta0 gamma^2 (NTK-style).
    batch : int
        Batch size.
    scaling : {"mean_field", "ntk", "plain"}
    seeds : sequence of int or Seed
    sigma2 : float
        Input-noise variance (>= 0).
    n_test : int
        Test pairs per accuracy.

    Returns
    -------
    pandas.DataFrame
        :func:`per_seed_table`: one row per seed.
    """
    _integer("d", d, 1, 4096)
    _integer("L", L, 2, 4096)
    _number("sigma2", sigma2, lo=0.0)
    _check_training(N, steps, batch, n_test, eta0, gamma0)
    gamma, rate = richness(gamma0, d, N, scaling)
    seeds = list(seeds)
    run = Run(d=d, L=L, gamma=gamma, lr=eta0 * rate, sigma2=sigma2)
    out = run_mlp(
        [run],
        seeds,
        geo=symbolic_geometry(d, L, noisy=sigma2 > 0, batch=batch),
        N=N,
        batch=batch,
        steps=steps,
        n_test=n_test,
    )
    return per_seed_table(out[0], seeds)


def train_psvrt(
    n_train: int,
    gamma0: float,
    *,
    n_patches: int = 3,
    patch: int = 5,
    N: int = 128,
    steps: int = 3000,
    eta0: float = 0.1,
    batch: int = 128,
    seeds=(0,),
    n_test: int = 4096,
) -> pd.DataFrame:
    """Train the MLP on PSVRT same-different images, one network per seed.

    An image has n_patches x n_patches cells of patch x patch pixels; two
    distinct cells hold random +-1 bit patches (scaled by 1/patch, so a patch
    has unit norm), identical for "same".  Training patches are drawn from a
    fixed set of ``n_train`` patterns, test patches are fresh
    (docs/equality_reasoning.md, section "Vision").  The network sees the
    image with its pixels in cell-major order, a fixed permutation of the
    row-major image (:func:`cell_major_order`), to which the MLP is
    indifferent.  Richness gamma = gamma0 sqrt(patch^2) (mean-field).

    Parameters
    ----------
    n_train : int
        Training patterns (>= 2).
    gamma0 : float
        Richness (> 0).
    n_patches : int
        Cells per side (>= 2).
    patch : int
        Patch side (>= 1).
    N, steps, eta0, batch, seeds, n_test
        As for :func:`train_mlp`.

    Returns
    -------
    pandas.DataFrame
        :func:`per_seed_table`: one row per seed.
    """
    _integer("n_train", n_train, 2, 1 << 16)
    _integer("n_patches", n_patches, 2, 64)
    _integer("patch", patch, 1, 64)
    _check_training(N, steps, batch, n_test, eta0, gamma0)
    p = patch**2
    gamma, rate = richness(gamma0, p, N, "mean_field")
    seeds = list(seeds)
    run = Run(d=p, L=n_train, gamma=gamma, lr=eta0 * rate, n_slots=n_patches**2, kind=BITS)
    geo = psvrt_geometry(n_train, n_patches, patch, batch=batch)
    out = run_mlp([run], seeds, geo=geo, N=N, batch=batch, steps=steps, n_test=n_test)
    return per_seed_table(out[0], seeds)


def cell_major_order(n_patches: int, patch: int) -> np.ndarray:
    """Row-major pixel index of every coordinate of the cell-major input.

    Parameters
    ----------
    n_patches : int
        Cells per side.
    patch : int
        Patch side.

    Returns
    -------
    numpy.ndarray, shape (n_patches^2 patch^2,)
        ``image.reshape(-1)[order]`` is the network's input: cell c (row-major
        over the grid) occupies coordinates c patch^2 ... (c + 1) patch^2 - 1,
        its pixels in row-major order.
    """
    side = n_patches * patch
    cells = np.arange(n_patches**2)
    r0, c0 = (cells // n_patches) * patch, (cells % n_patches) * patch
    pr, pc = np.divmod(np.arange(patch**2), patch)
    return ((r0[:, None] + pr[None]) * side + (c0[:, None] + pc[None])).reshape(-1)


def psvrt_image(patch1, patch2, cell1, cell2, n_patches: int = 3):
    """Render PSVRT images: two patches placed in two cells of an empty grid.

    Parameters
    ----------
    patch1, patch2 : array_like, shape (n, patch, patch)
        The two patches of each image.
    cell1, cell2 : array_like of int, shape (n,)
        Their cells (row-major over the n_patches x n_patches grid, distinct).
    n_patches : int
        Cells per side.

    Returns
    -------
    numpy.ndarray, shape (n, n_patches patch, n_patches patch)
    """
    p1 = np.asarray(patch1, dtype=float)
    p2 = np.asarray(patch2, dtype=float)
    c1, c2 = np.asarray(cell1), np.asarray(cell2)
    if np.any(c1 == c2):
        raise ConfigError("cell2", c2, "every image needs two distinct cells")
    n, patch = p1.shape[0], p1.shape[1]
    img = np.zeros((n, n_patches * patch, n_patches * patch))
    for i in range(n):
        for pat, cell in ((p1[i], c1[i]), (p2[i], c2[i])):
            r, c = divmod(int(cell), n_patches)
            img[i, r * patch : (r + 1) * patch, c * patch : (c + 1) * patch] = pat
    return img
