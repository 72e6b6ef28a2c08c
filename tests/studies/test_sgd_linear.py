"""sgd_linear: closed forms, limits, spec numbers, and theory vs simulation at random points."""

import numpy as np
import pytest

from theorylab.core.compare import agreement_ratio
from theorylab.core.deteq import renormalized_ridge, rf_error, support_edge
from theorylab.core.errors import ConfigError
from theorylab.core.spectra import power_law_spectrum
from theorylab.core.train import key_for
from theorylab.studies.sgd_linear import STUDY
from theorylab.studies.sgd_linear import simulate as sim
from theorylab.studies.sgd_linear import theory as th


@pytest.fixture(scope="module")
def sp200():
    return power_law_spectrum(200, 1.5, 0.8)


# --------------------------------------------------------------------------
# (A) online SGD


def test_online_recursion_spec_numbers(sp200):
    L = th.online_sgd_curve(sp200.eigs, sp200.target_power, 0.5, 1, 2000, 0.05)
    assert L[100] == pytest.approx(0.06914, abs=1e-5)
    assert L[1999] == pytest.approx(0.06890, abs=1e-5)
    L = th.online_sgd_curve(sp200.eigs, sp200.target_power, 3.0, 8, 2000, 0.05)
    assert L[1999] == pytest.approx(0.0786, abs=1e-4)
    L = th.online_sgd_curve(sp200.eigs, sp200.target_power, 1.2, 1, 1000, 0.05)
    L0 = th.online_sgd_curve(
        sp200.eigs, sp200.target_power, 1.2, 1, 1000, 0.05, fourth_moment=False
    )
    assert L[1000] == pytest.approx(0.317, abs=1e-3)
    assert L0[1000] == pytest.approx(0.155, abs=1e-3)


def test_online_recursion_equals_volterra_and_floor(sp200):
    eigs, p = sp200.eigs, sp200.target_power
    lr, B, T, s2 = 0.8, 2, 400, 0.1
    a = (1 - lr * eigs) ** 2 + lr**2 * eigs**2 / B
    t = np.arange(T + 1)
    forcing = np.array([np.sum(p * a**k) for k in t]) + s2
    kernel = np.array([np.sum(eigs**2 * a**k) for k in t])
    v = th.volterra(forcing, kernel, lr**2 / B)
    np.testing.assert_allclose(th.online_sgd_curve(eigs, p, lr, B, T, s2), v, rtol=1e-12)
    # a flat spectrum learns every mode: the loss settles at the stationary floor
    flat = np.full(20, 0.05)
    L = th.online_sgd_curve(flat, flat * 0.5, 1.0, 1, 3000, 0.2)
    assert L[-1] == pytest.approx(th.stationary_loss(flat, 1.0, 1, 0.2), rel=1e-9)


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"lr": 5.0}, "lr"),
        ({"lr": -0.1}, "lr"),
        ({"batch": 0}, "batch"),
        ({"batch": 1.5}, "batch"),
        ({"eigs": [1.0, -0.1]}, "eigs"),
        ({"eigs": [1.0, np.inf]}, "eigs"),
        ({"eigs": [1.0, np.nan]}, "eigs"),
        ({"noise": -1.0}, "noise"),
        ({"steps": -2}, "steps"),
    ],
)
def test_bad_online_arguments(kwargs, name):
    args = dict(eigs=[0.5, 0.25], target_power=[0.5, 0.5], lr=0.5, batch=1, steps=10, noise=0.0)
    args.update(kwargs)
    with pytest.raises(ConfigError) as info:
        th.online_sgd_curve(**args)
    assert info.value.field == name
    if name == "lr" and args["lr"] > 0:
        assert "stability edge" in str(info.value)


def test_online_theory_matches_simulation_at_random_points():
    """Exact recursion vs SGD: alpha in [1.2, 2], r in [0.3, 1.2], B in {1, 2, 4},
    lr in [0.2, 0.6] x edge, sigma^2 in [0, 0.1], D = 100; 400 runs; 3 SE + 1 %."""
    rng = np.random.default_rng(7)
    for i in range(3):
        alpha, r = rng.uniform(1.2, 2.0), rng.uniform(0.3, 1.2)
        B = int(rng.choice([1, 2, 4]))
        s2 = rng.uniform(0, 0.1)
        sp = power_law_spectrum(100, alpha, r)
        lr = rng.uniform(0.2, 0.6) * th.online_stability_edge(sp.eigs, B)
        curves = sim.online_sgd(key_for(i, 77), sp.eigs, sp.weights, s2, lr, B, 300, 400)
        L = th.online_sgd_curve(sp.eigs, sp.target_power, lr, B, 300, s2)
        ts = [1, 3, 10, 30, 100, 300]
        m, se = curves.mean(0)[ts], curves.std(0, ddof=1)[ts] / np.sqrt(400)
        assert np.all(agreement_ratio(L[ts], m, se, 3, 0.01) <= 1), (alpha, r, B, lr, s2)


def test_online_sgd_float32_and_seed_batches_at_random_points():
    """The float32 simulation of the quick preset, seeds batched in one call: each seed's
    curves equal a call with its key alone (to float32 rounding), and the float32 mean
    over seeds agrees with the exact recursion (alpha, r, B, lr drawn; 3 SE + 1 %)."""
    import jax

    rng = np.random.default_rng(19)
    alpha, r = rng.uniform(1.2, 2.0), rng.uniform(0.3, 1.2)
    B = int(rng.choice([2, 8]))
    sp = power_law_spectrum(100, alpha, r)
    lr = rng.uniform(0.3, 0.7) * th.online_stability_edge(sp.eigs, B)
    keys = jax.numpy.stack([key_for(s, 78) for s in range(4)])
    both = sim.online_sgd(keys, sp.eigs, sp.weights, 0.05, lr, B, 300, 100, dtype="float32")
    assert both.dtype == np.float64 and both.shape == (4, 100, 301)
    np.testing.assert_allclose(both[..., 0], sp.target_power.sum() + 0.05, rtol=1e-6)  # w = 0
    one = sim.online_sgd(keys[2], sp.eigs, sp.weights, 0.05, lr, B, 300, 100, dtype="float32")
    np.testing.assert_allclose(one, both[2], rtol=1e-4)
    c = both.reshape(400, 301)
    L = th.online_sgd_curve(sp.eigs, sp.target_power, lr, B, 300, 0.05)
    ts = [1, 3, 10, 30, 100, 300]
    m, se = c.mean(0)[ts], c.std(0, ddof=1)[ts] / np.sqrt(400)
    assert np.all(agreement_ratio(L[ts], m, se, 3, 0.01) <= 1), (alpha, r, B, lr)


# --------------------------------------------------------------------------
# (B) online random features


def test_online_rf_spec_numbers():
    sp = power_law_spectrum(1000, 1.5, 0.8)
    L = th.online_rf_curve(sp.eigs, sp.target_power, 100, 1.5, 4, 1000, 0.0)
    np.testing.assert_allclose(
        L[[10, 100, 300, 999]], [0.03172, 0.00816, 0.00626, 0.00549], atol=1e-5
    )
    assert L[0] == pytest.approx(1.0, abs=1e-9)


def test_online_rf_wide_limit_is_linear_regression(sp200):
    """N -> inf: H -> Sigma, so online RF SGD becomes online SGD on the inputs."""
    L_rf = th.online_rf_curve(sp200.eigs, sp200.target_power, 10**7, 0.6, 2, 300, 0.05)
    L = th.online_sgd_curve(sp200.eigs, sp200.target_power, 0.6, 2, 300, 0.05)
    np.testing.assert_allclose(L_rf, L, rtol=2e-4)


def test_online_rf_equivalent_vs_exact_given_F():
    """DE vs the mean over 40 projections of the exact recursion given F (alpha, r drawn)."""
    rng = np.random.default_rng(3)
    alpha, r = rng.uniform(1.3, 2.0), rng.uniform(0.4, 1.0)
    sp = power_law_spectrum(600, alpha, r)
    N, lr, B, T = 80, 1.0, 4, 300
    de = th.online_rf_curve(sp.eigs, sp.target_power, N, lr, B, T, 0.02)
    ex = np.array(
        [
            sim.online_rf_exact(
                sim.rf_projection(key_for(s, 5), sp.eigs, sp.weights, 0.02, N), lr, B, T
            )
            for s in range(40)
        ]
    )
    ts = [1, 10, 100, 300]
    m, se = ex.mean(0)[ts], ex.std(0, ddof=1)[ts] / np.sqrt(40)
    assert np.all(agreement_ratio(de[ts], m, se, 3, 0.02) <= 1), (alpha, r, de[ts], m)


def test_online_rf_simulation_matches_exact_given_F():
    sp = power_law_spectrum(300, 1.5, 0.8)
    proj = sim.rf_projection(key_for(0, 6), sp.eigs, sp.weights, 0.05, 50)
    ex = sim.online_rf_exact(proj, 1.0, 2, 200)
    c = sim.online_rf(key_for(1, 6), proj, 1.0, 2, 200, 400)
    ts = [1, 10, 50, 200]
    m, se = c.mean(0)[ts], c.std(0, ddof=1)[ts] / np.sqrt(400)
    assert np.all(agreement_ratio(ex[ts], m, se, 3, 0.01) <= 1)


def test_online_rf_unstable_rate_is_an_error():
    sp = power_law_spectrum(200, 1.5, 0.8)
    with pytest.raises(ConfigError, match="stability edge"):
        th.online_rf_curve(sp.eigs, sp.target_power, 50, 5.0, 1, 10)


# --------------------------------------------------------------------------
# (C) full-batch GD


def test_gd_initial_mass_identity(sp200):
    """t = 0: train = w*^T Sigma w* + sigma^2 = test, to 1e-10 (spec A7)."""
    tr, te = th.gd_curves(sp200.eigs, sp200.target_power, 100, 1.0, 50, 0.3)
    total = sp200.target_power.sum() + 0.3
    assert tr[0] == pytest.approx(total, rel=1e-10)
    assert te[0] == pytest.approx(total, rel=1e-10)


def test_gd_contour_converged(sp200):
    lr = 0.77 / support_edge(sp200.eigs, 100)
    a = th.gd_curves(sp200.eigs, sp200.target_power, 100, lr, 200, 0.1)
    b = th.gd_curves(sp200.eigs, sp200.target_power, 100, lr, 200, 0.1, nodes=4 * (6 * 200 + 200))
    np.testing.assert_allclose(a[0], b[0], rtol=1e-7)
    np.testing.assert_allclose(a[1], b[1], rtol=1e-7)


@pytest.mark.parametrize("P", [25, 100])
def test_gd_long_time_limit_is_ridgeless_regression(P):
    """t -> inf: GD from zero reaches the min-norm (ridgeless) solution, whose risk is
    the kernel-ridge formula at zero ridge (the single-member RF error at N = inf)."""
    eigs = np.linspace(0.5, 1.5, 50) / 50
    power = eigs * np.linspace(1.0, 0.2, 50) ** 2
    lr = 1.0 / support_edge(eigs, P)
    _, te = th.gd_curves(eigs, power, P, lr, 3000, 0.1)
    limit = rf_error(eigs, power, P, np.inf, 0.0, 0.1)
    assert te[-1] == pytest.approx(float(limit), rel=1e-6)


def _gd_exact_average(sp, P, lr, T, s2, datasets, seed):
    """Exact GD curves (closed form per data set) averaged over data sets."""
    tr, te = [], []
    for d in range(datasets):
        X, y = sim.sample_data(key_for(seed, d), sp.eigs, sp.weights, s2, P)
        a, b = sim.full_batch_gd(X, y, sp.eigs, sp.weights, s2, lr, T)
        tr.append(a)
        te.append(b)
    return np.array(tr), np.array(te)


def test_gd_equivalent_vs_simulation_at_random_points():
    """alpha in [1.2, 2], r in [0.3, 1.2], P/D in [0.5, 2], lr x+ in [0.5, 1.5], D = 150,
    sigma^2 in [0, 0.2]; 60 data sets; 3 SE + 2 % for t >= 3."""
    rng = np.random.default_rng(11)
    for i in range(2):
        alpha, r = rng.uniform(1.2, 2.0), rng.uniform(0.3, 1.2)
        P = int(150 * rng.uniform(0.5, 2.0))
        s2 = rng.uniform(0, 0.2)
        sp = power_law_spectrum(150, alpha, r)
        lr = rng.uniform(0.5, 1.5) / support_edge(sp.eigs, P)
        tr_d, te_d = th.gd_curves(sp.eigs, sp.target_power, P, lr, 150, s2)
        tr, te = _gd_exact_average(sp, P, lr, 150, s2, 60, 100 + i)
        ts = [3, 10, 30, 100, 150]
        for de, runs in ((tr_d, tr), (te_d, te)):
            m, se = runs.mean(0)[ts], runs.std(0, ddof=1)[ts] / np.sqrt(60)
            assert np.all(agreement_ratio(de[ts], m, se, 3, 0.02) <= 1), (alpha, r, P, lr, s2)


def test_gd_unstable_rate_is_an_error(sp200):
    with pytest.raises(ConfigError, match="stability edge"):
        th.gd_curves(sp200.eigs, sp200.target_power, 100, 10.0, 10)


# --------------------------------------------------------------------------
# (D) multi-pass SGD


def test_multipass_large_batch_is_gd(sp200):
    lr = 0.5 / support_edge(sp200.eigs, 100)
    a = th.multipass_sgd_curves(sp200.eigs, sp200.target_power, 100, lr, 10**12, 100, 0.1)
    b = th.gd_curves(sp200.eigs, sp200.target_power, 100, lr, 100, 0.1)
    np.testing.assert_allclose(a[0], b[0], rtol=1e-9)
    np.testing.assert_allclose(a[1], b[1], rtol=1e-9)


def test_multipass_exact_recursion(sp200):
    """The exact recursion given the data: B -> inf equals GD on the same data, and it
    matches multi-pass SGD chains."""
    sp = power_law_spectrum(60, 1.5, 0.8)
    X, y = sim.sample_data(key_for(0, 8), sp.eigs, sp.weights, 0.1, 30)
    lr = 0.4 / support_edge(sp.eigs, 30)
    tr_gd, te_gd = sim.full_batch_gd(X, y, sp.eigs, sp.weights, 0.1, lr, 50)
    tr, te = sim.multipass_exact(X, y, sp.eigs, sp.weights, lr, 10**12, 50)
    np.testing.assert_allclose(tr, tr_gd, rtol=1e-8)
    np.testing.assert_allclose(te + 0.1, te_gd, rtol=1e-8)
    tr, te = sim.multipass_exact(X, y, sp.eigs, sp.weights, lr, 2, 50)
    ctr, cte = sim.multipass_sgd(key_for(1, 8), X, y, sp.eigs, sp.weights, 0.1, lr, 2, 50, 2000)
    ts = [1, 5, 20, 50]
    for ex, c in ((tr, ctr), (te + 0.1, cte)):
        m, se = c.mean(0)[ts], c.std(0, ddof=1)[ts] / np.sqrt(2000)
        assert np.all(agreement_ratio(ex[ts], m, se, 3, 0.005) <= 1)


# --------------------------------------------------------------------------
# static two-point


def test_two_point_spec_numbers_and_identities():
    sp = power_law_spectrum(600, 1.5, 0.8)
    w, l1, l2 = sp.weights, 1e-3, 3e-2
    assert th.two_point(sp.eigs, 300, l1, l2, sp.eigs, w) == pytest.approx(1.055e-3, rel=1e-3)
    assert th.two_point(sp.eigs, 300, l1, l2, np.ones(600), w) == pytest.approx(0.1227, rel=1e-3)
    # A given as a full matrix equals A given as its diagonal
    assert th.two_point(sp.eigs, 300, l1, l2, np.diag(sp.eigs), w) == pytest.approx(
        float(th.two_point(sp.eigs, 300, l1, l2, sp.eigs, w)), rel=1e-12
    )
    # A = I: resolvent identity G1 G2 = (G1 - G2)/(l2 - l1) with one-point equivalents
    k1, k2 = renormalized_ridge(sp.eigs, [l1, l2], 300)
    one = [k / lam * np.sum(w**2 / (sp.eigs + k)) for k, lam in ((k1, l1), (k2, l2))]
    identity = l1 * l2 * (one[0] - one[1]) / (l2 - l1)
    assert th.two_point(sp.eigs, 300, l1, l2, np.ones(600), w) == pytest.approx(identity, rel=1e-10)
    # diagonal limit: kappa^2 T2 / (1 - df2/n), the static ridge risk without noise
    lam = 1e-2
    k = float(renormalized_ridge(sp.eigs, lam, 300))
    t2 = np.sum(sp.target_power / (sp.eigs + k) ** 2)
    df2 = np.sum(sp.eigs**2 / (sp.eigs + k) ** 2)
    assert th.two_point(sp.eigs, 300, lam, lam, sp.eigs, w) == pytest.approx(
        k**2 * t2 / (1 - df2 / 300), rel=1e-10
    )


def test_two_point_vs_sampled_data():
    sp = power_law_spectrum(300, 1.5, 0.8)
    perm = np.random.default_rng(0).permutation(300)
    for A in (sp.eigs, np.ones(300), sp.eigs[perm]):
        v = sim.static_two_point(key_for(0, 9), sp.eigs, sp.weights, 150, 1e-3, 3e-2, A, 30)
        de = th.two_point(sp.eigs, 150, 1e-3, 3e-2, A, sp.weights)
        assert agreement_ratio(de, v.mean(), v.std(ddof=1) / np.sqrt(30), 3, 0.03) <= 1


# --------------------------------------------------------------------------
# exponents and config


def test_exponent_closed_forms():
    assert th.forcing_exponent(0.8) == pytest.approx(1.6)
    assert th.rf_floor_exponent(1.5, 0.3) == pytest.approx(0.9)
    assert th.rf_floor_exponent(1.5, 0.8) == pytest.approx(1.5)


def test_config_rules():
    cfg = STUDY.default_config().validate()
    with pytest.raises(ConfigError, match=r"online\.lrs"):
        cfg.with_overrides({"online.lrs": "0.5"})
    with pytest.raises(ConfigError, match="beyond the edge") as info:
        cfg.with_overrides({"online.lrs": "0.5,9"})
    assert info.value.field == "online.lrs"
    with pytest.raises(ConfigError, match=r"gd\.lr_frac"):
        cfg.with_overrides({"gd.lr_frac": "2.5"})
    with pytest.raises(ConfigError, match=r"multipass\.lr_fracs"):
        cfg.with_overrides({"multipass.lr_fracs": "0.3"})
    with pytest.raises(ConfigError, match=r"exponents\.pairs"):
        cfg.with_overrides({"exponents.pairs": "1.5,0.3,0.9,0.4"})
    # the shared spectrum reaches the experiments' rules: at alpha = 3 the B = 8 edge is 1.92
    with pytest.raises(ConfigError, match=r"online\.lrs"):
        cfg.with_overrides({"alpha": "3"})
    STUDY.preset("full")


BASELINE_CHECKS = {
    "A1_static_two_point",
    "A2_online_sgd_exact",
    "A2_online_sgd_near_edge",
    "A2_fourth_moment_needed_near_edge",
    "A3_online_rf_equivalent",
    "A3_online_rf_simulation_given_F",
    "A4_gd_test",
    "A4_gd_train",
    "A5_multipass_exact_recursion",
    "A5_multipass_decoupled",
    "M4_kernel_sgd_digits",
    "A6_forcing_exponent",
    "A6_floor_exponent",
    "A4_early_stopping_minimum",
}


def test_declared_checks_and_experiments():
    """The study declares the fixed check names it has always reported."""
    names = STUDY.check_names()
    assert len(names) == len(set(names)) and set(names) == BASELINE_CHECKS
    experiments = "static online rf gd multipass digits exponents".split()
    assert STUDY.experiment_names == experiments
    assert STUDY.check_names("gd") == ["A4_gd_test", "A4_gd_train", "A4_early_stopping_minimum"]


# --------------------------------------------------------------------------
# batched simulations equal the per-data-set ones


def test_sampled_gd_equals_full_batch_gd(sp200):
    import jax

    keys = jax.random.split(key_for(0, 10), 3)
    lr = 0.77 / support_edge(sp200.eigs, 80)
    tr, te = sim.sampled_gd(keys, sp200.eigs, sp200.weights, 0.1, lr, 80, 40)
    assert tr.shape == te.shape == (3, 41)
    for i in range(3):
        X, y = sim.sample_data(keys[i], sp200.eigs, sp200.weights, 0.1, 80)
        a, b = sim.full_batch_gd(X, y, sp200.eigs, sp200.weights, 0.1, lr, 40)
        np.testing.assert_allclose(tr[i], a, rtol=1e-12)
        np.testing.assert_allclose(te[i], b, rtol=1e-12)
        assert a[0] == pytest.approx(np.mean(y**2), rel=1e-12)  # |X w - y|^2 / P at w = 0


def test_static_two_point_stacked_matrices(sp200):
    As = np.stack([sp200.eigs, np.ones(200)])
    v = sim.static_two_point(key_for(0, 11), sp200.eigs, sp200.weights, 100, 1e-3, 3e-2, As, 3)
    assert v.shape == (3, 2)
    for j in range(2):
        one = sim.static_two_point(
            key_for(0, 11), sp200.eigs, sp200.weights, 100, 1e-3, 3e-2, As[j], 3
        )
        np.testing.assert_allclose(v[:, j], one, rtol=1e-12)
