"""overtraining: max-margin solvers against independent QPs, the implicit-bias asymptote
against gradient descent, the metrics against their definitions, the JAX simulation against
NumPy references, the neural pipeline against its null, and the quick preset."""

import json

import numpy as np
import pytest
from scipy.optimize import minimize
from typer.testing import CliRunner

from theorylab.cli import app
from theorylab.core.errors import ConfigError, DataError
from theorylab.core.experiment import Seed
from theorylab.studies import REGISTRY
from theorylab.studies.overtraining import STUDY
from theorylab.studies.overtraining import recordings as rec
from theorylab.studies.overtraining import simulate as sim
from theorylab.studies.overtraining import theory as th
from theorylab.studies.overtraining.common import make_batch, plateau, train

MODULE = "theorylab.studies.overtraining"


def _separable(rng, N, d, margin=0.2, intercept=0.0):
    w = rng.standard_normal(d)
    w /= np.linalg.norm(w)
    X = rng.standard_normal((4 * N, d))
    z = X @ w + intercept
    keep = np.abs(z) > margin
    return X[keep][:N], np.sign(z[keep][:N])


def _qp(X, y, intercept=False):
    """Independent solve of min |w|^2 / 2 s.t. y_i (w.x_i + b) >= 1 (SLSQP on the primal)."""
    d = X.shape[1]
    n = d + 1 if intercept else d

    def cons(v):
        b = v[d] if intercept else 0.0
        return y * (X @ v[:d] + b) - 1.0

    res = minimize(
        lambda v: 0.5 * v[:d] @ v[:d],
        np.zeros(n) + 0.1,
        jac=lambda v: np.r_[v[:d], np.zeros(n - d)],
        constraints=[{"type": "ineq", "fun": cons, "jac": lambda v: _jac(X, y, intercept)}],
        method="SLSQP",
        options={"ftol": 1e-13, "maxiter": 5000},
    )
    assert res.success, res.message
    return 1.0 / np.linalg.norm(res.x[:d]), res.x[:d] / np.linalg.norm(res.x[:d])


def _jac(X, y, intercept):
    J = y[:, None] * X
    return np.hstack([J, y[:, None]]) if intercept else J


# -- max margin (acceptance: gamma* equals an independent QP to 1e-6) -------------------------


@pytest.mark.parametrize(("N", "d", "seed"), [(30, 5, 0), (60, 10, 1), (100, 20, 2), (15, 30, 3)])
def test_max_margin_equals_an_independent_qp(N, d, seed):
    X, y = _separable(np.random.default_rng(seed), N, d)
    w, gamma = th.max_margin(X, y)
    g_qp, w_qp = _qp(X, y)
    assert gamma == pytest.approx(g_qp, abs=1e-6)
    assert np.linalg.norm(w) == pytest.approx(1.0, abs=1e-12)
    assert np.min(y * (X @ w)) == pytest.approx(gamma, abs=1e-12)
    assert w @ w_qp == pytest.approx(1.0, abs=1e-6)


@pytest.mark.parametrize("seed", [0, 1])
def test_max_margin_with_intercept_equals_an_independent_qp(seed):
    X, y = _separable(np.random.default_rng(seed), 40, 6, intercept=0.7)
    w, b, gamma = th.max_margin_with_intercept(X, y)
    g_qp, w_qp = _qp(X, y, intercept=True)
    assert gamma == pytest.approx(g_qp, abs=1e-6)
    assert np.min(y * (X @ w + b)) == pytest.approx(gamma, abs=1e-9)
    assert w @ w_qp == pytest.approx(1.0, abs=1e-6)
    # sklearn's SVC (an intercept, C large) solves the same problem
    from sklearn.svm import SVC

    svc = SVC(kernel="linear", C=1e8, tol=1e-10).fit(X, y)
    assert 1.0 / np.linalg.norm(svc.coef_) == pytest.approx(gamma, rel=1e-4)


def test_non_separable_data_raise_a_clear_error():
    X = np.array([[1.0, 0.0], [-1.0, 0.0], [0.0, 1.0]])
    y = np.array([1.0, 1.0, -1.0])  # x and -x with the same label: not separable through 0
    with pytest.raises(ConfigError, match="separable") as info:
        th.max_margin(X, y)
    assert info.value.field == "y"
    Xo = np.array([[0.0], [1.0], [2.0]])
    with pytest.raises(ConfigError, match="separable"):
        th.max_margin_with_intercept(Xo, np.array([1.0, -1.0, 1.0]))
    assert th.hidden_svm_margin(Xo, np.array([1.0, -1.0, 1.0])) == 0.0


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"lr": -0.1}, "lr"),
        ({"lr": float("nan")}, "lr"),
        ({"loss": "exponential"}, "loss"),
        ({"steps": 0}, "steps"),
        ({"record_every": 0}, "record_every"),
    ],
)
def test_linear_gd_bad_arguments(kwargs, field):
    X, y = _separable(np.random.default_rng(0), 20, 3)
    with pytest.raises(ConfigError) as info:
        th.linear_gd(X, y, **{"steps": 10, **kwargs})
    assert info.value.field == field


def test_bad_labels_and_shapes():
    with pytest.raises(ConfigError) as info:
        th.max_margin(np.ones((3, 2)), np.array([1.0, 0.0, 1.0]))
    assert info.value.field == "y"
    with pytest.raises(ConfigError) as info:
        th.max_margin(np.ones(3), np.ones(3))
    assert info.value.field == "X"
    with pytest.raises(ConfigError):
        sim.linear_gd_run(np.ones((1, 3, 2)), [0.1], [1, 2], loss="exponential")


# -- gradient descent: theory.linear_gd, the JAX simulation and the asymptote ----------------


@pytest.fixture(scope="module")
def teacher():
    X, y = sim.teacher_data(Seed("overtraining", "test", 0).rng("data"), 200, 50, 0.3)
    lr = 200 / np.linalg.eigvalsh(X.T @ X)[-1]
    return X, y, lr


@pytest.mark.parametrize("loss", ["logistic", "hinge", "squared"])
def test_jax_simulation_equals_the_numpy_reference(teacher, loss):
    X, y, lr = teacher
    ref = th.linear_gd(X, y, loss, lr=lr / 10, steps=300, record_every=100)
    W = sim.linear_gd_run((y[:, None] * X)[None], [lr / 10], [100, 200, 300], loss)
    np.testing.assert_allclose(W[0, -1], ref["w"], rtol=1e-10, atol=1e-12)
    norms = np.linalg.norm(W[0], axis=1)
    np.testing.assert_allclose(norms, ref["w_norm"], rtol=1e-10)


def test_logistic_gd_grows_like_w_svm_ln_t(teacher):
    """Acceptance: |w| grows per decade (1e4 -> 1e5) within 10 % of |w_svm| ln 10, and the
    margin gap and |w| agree with the asymptote of theory.soudry_asymptote."""
    X, y, lr = teacher
    out = th.linear_gd(X, y, "logistic", lr=lr, steps=100_000)
    _, gamma_star = th.max_margin(X, y)
    norm = dict(zip(out["step"], out["w_norm"], strict=True))
    growth = norm[100_000] - norm[10_000]
    assert growth == pytest.approx(np.log(10) / gamma_star, rel=0.10)
    a = th.soudry_asymptote(X, y, lr, [10_000, 100_000])
    assert a["per_decade"] == pytest.approx(np.log(10) / gamma_star, rel=1e-12)
    assert a["w_norm"][-1] == pytest.approx(norm[100_000], rel=0.05)
    gap = gamma_star - out["gamma"][-1]
    assert 0 < gap < 0.1 and gap == pytest.approx(a["gap"][-1], rel=0.3)
    # the normalized margin never decreases once the data are separated; 1 - cos shrinks
    sep = out["accuracy"] == 1.0
    assert np.all(np.diff(out["gamma"][sep]) > -1e-6)
    i3 = int(np.flatnonzero(out["step"] == 1000)[0])
    assert (1 - out["cos"][-1]) < 0.6 * (1 - out["cos"][i3])


def test_hinge_gd_stops_exactly_and_squared_loss_converges_to_least_squares(teacher):
    X, y, lr = teacher
    h = th.linear_gd(X, y, "hinge", lr=lr / 10, steps=3000, record_every=500)
    assert h["loss"][-1] == 0.0 and h["loss"][-2] == 0.0
    assert h["w_norm"][-1] == h["w_norm"][-2]  # no gradient at all once every margin >= 1
    assert h["gamma"][-1] < th.max_margin(X, y)[1]
    s = th.linear_gd(X, y, "squared", lr=lr, steps=5000, record_every=5000)
    Z = y[:, None] * X
    w_ls = np.linalg.solve(Z.T @ Z, Z.T @ np.ones(len(y)))
    np.testing.assert_allclose(s["w"], w_ls, rtol=1e-6)


# -- metrics against their definitions -------------------------------------------------------


def test_target_nontarget_similarity_closed_form():
    R = np.array([[1.0, 2.0], [3.0, 0.0], [0.0, 1.0], [2.0, 2.0]])
    lab = np.array([1, 1, 0, 0])
    pairs = [R[t] @ R[u] / 2 for t in (0, 1) for u in (2, 3)]
    assert th.target_nontarget_similarity(R, lab) == pytest.approx(np.mean(pairs), rel=1e-14)
    n = R / np.linalg.norm(R, axis=1, keepdims=True)
    cos = [n[t] @ n[u] for t in (0, 1) for u in (2, 3)]
    assert th.target_nontarget_similarity(R, lab, cosine=True) == pytest.approx(np.mean(cos))


def test_fisher_discriminant_recovers_the_mahalanobis_distance():
    rng = np.random.default_rng(0)
    D, n = 5, 20_000
    L = 0.3 * rng.standard_normal((D, D)) / np.sqrt(D) + np.eye(D)  # well conditioned
    S = L @ L.T
    mu = rng.standard_normal(D)
    A = rng.standard_normal((n, D)) @ L.T + mu
    B = rng.standard_normal((n, D)) @ L.T
    J = th.fisher_discriminant(A, B, shrinkage=0.0)
    true = mu @ np.linalg.solve(S, mu)
    # sampling error of J: sd ~ 2 sqrt(J (2 / n)) for large n; 4 sd
    assert J == pytest.approx(true, abs=4 * 2 * np.sqrt(true * 2 / n) + 2 * D / n)
    assert th.fisher_discriminant(A, B) == pytest.approx(J, rel=1e-2)


def test_ledoit_wolf_matches_scikit_learn():
    from sklearn.covariance import ledoit_wolf

    X = np.random.default_rng(1).standard_normal((40, 25))
    Xc = X - X.mean(0)
    np.testing.assert_allclose(th._ledoit_wolf(Xc), ledoit_wolf(Xc, assume_centered=True)[0])


def test_kernel_alignment_definition():
    rng = np.random.default_rng(2)
    h = rng.standard_normal((12, 4))
    y = np.sign(rng.standard_normal(12))
    a = th.kernel_alignment(h, y)
    hc = h - h.mean(0)
    K = hc @ hc.T
    assert a == pytest.approx(y @ K @ y / (np.linalg.norm(K) * 12), rel=1e-12)
    assert th.kernel_alignment(h, -y) == pytest.approx(a, rel=1e-12)  # reversal invariance
    w = np.r_[3.0, np.ones(11)]  # a weight of 3 is 3 copies
    dup = np.vstack([h[:1], h[:1], h])
    assert th.kernel_alignment(h, y, weights=w) == pytest.approx(
        th.kernel_alignment(dup, np.r_[y[:1], y[:1], y]), rel=1e-12
    )
    assert th.kernel_alignment(y[:, None], y, center=False) == pytest.approx(1.0)


def test_hidden_svm_margin_is_scale_free():
    X, y = _separable(np.random.default_rng(3), 30, 4, intercept=2.0)
    g = th.hidden_svm_margin(X, y)
    assert th.hidden_svm_margin(7.5 * X, y) == pytest.approx(g, rel=1e-10)
    rms = np.sqrt(np.mean(np.sum(X**2, axis=1)))
    assert g == pytest.approx(th.max_margin_with_intercept(X, y)[2] / rms, rel=1e-10)


def test_transitions_find_late_and_abrupt_learners():
    t = np.logspace(0, 3, 31)
    step = np.where(t < 100, -1.0, 1.0)  # jumps at t = 100: abrupt, late
    slow = np.linspace(-1.0, 1.0, 31)  # crosses 0 at t = 10**1.5, gradual
    early = np.ones(31)  # already right at the plateau
    out = th.transitions(np.vstack([step, slow, early]), t, t_plateau=10.0)
    assert out["late"].tolist() == [True, True, False]
    assert out["t_e"][0] == pytest.approx(100.0)
    assert out["abruptness"][0] == pytest.approx(1.0)
    assert 0.3 < out["abruptness"][1] < 0.75  # a third of the log range for one decade
    assert np.isnan(out["t_e"][2])


def test_readout_residual_is_the_gd_iteration():
    rng = np.random.default_rng(4)
    h = rng.standard_normal((10, 6))
    y = np.sign(rng.standard_normal(10))
    w = rng.uniform(0.5, 1.5, 10)
    w /= w.sum()
    v, lr, res = np.zeros(6), 0.3, []
    for _ in range(50):
        res.append(np.sum(w * (h @ v - y) ** 2))
        v = v - lr * h.T @ (w * (h @ v - y))
    np.testing.assert_allclose(
        th.readout_residual(h, y, lr, np.arange(50), weights=w), np.array(res) / res[0], rtol=1e-10
    )


# -- the odor task and the networks -----------------------------------------------------------


def test_odor_task_structure():
    task = sim.odor_task(
        np.random.default_rng(0), k=30, n=5, m_target=40, m_non=60, probes=7, sigma_in=0.0
    )
    T, X, P = task["T"], task["X"], task["P"]
    assert T.sum() == 5 and X.shape == (61, 30) and P.shape == (35, 30)
    assert np.all(X.sum(1) == 5) and np.all(P.sum(1) == 5)
    np.testing.assert_array_equal(X[1:] @ T, task["overlap"])  # m odorants from the target
    np.testing.assert_array_equal(P @ T, task["p_overlap"])
    assert task["w"].sum() == pytest.approx(1.0) and task["w"][0] == pytest.approx(40 / 100)
    noisy = sim.odor_task(
        np.random.default_rng(0), k=30, n=5, m_target=40, m_non=60, probes=7, sigma_in=0.1
    )
    assert noisy["X"].shape == (100, 30) and np.allclose(noisy["w"], 0.01)


def _numpy_step(W, a, X, y, w, f0, alpha, lr, hinge):
    H = W.shape[0]
    pre = X @ W.T
    f = alpha * (np.maximum(pre, 0) @ a / np.sqrt(H) - f0)
    u = y * f
    dl = -(u < 1.0).astype(float) if hinge else -1 / (1 + np.exp(u))
    c = w * dl * y * alpha / np.sqrt(H)  # dL/dg
    ga = np.maximum(pre, 0).T @ c
    gW = ((c[:, None] * a[None, :]) * (pre > 0)).T @ X
    return W - lr * gW, a - lr * ga


@pytest.mark.parametrize("hinge", [False, True])
def test_train_gd_is_gradient_descent(hinge):
    rng = np.random.default_rng(5)
    task = sim.odor_task(rng, k=20, n=4, m_target=10, m_non=15, probes=1)
    W0, a0 = sim.init_network(rng, 8, 20, 4)
    X, y, w = task["X"], task["y"], task["w"]
    _, g0 = sim.forward(W0[None], a0[None], X[None])
    W, a = W0.copy(), a0.copy()
    for _ in range(3):
        W, a = _numpy_step(W, a, X, y, w, g0[0], 3.0, 0.05, hinge)
    Wj, aj, steps = sim.train_gd(
        W0[None], a0[None], X[None], y[None], w[None], g0, alpha=3.0, lr=[0.05],
        hinge=[hinge], n_steps=[3],
    )  # fmt: skip
    assert steps[0] == 3
    np.testing.assert_allclose(Wj[0], W, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(aj[0], a, rtol=1e-10, atol=1e-12)
    with pytest.raises(ConfigError):
        sim.train_gd(W0[None], a0[None], X[None], y[None], w[None], g0, alpha=3.0, lr=[0.05],
                     hinge=[hinge], n_steps=[3], dtype="float16")  # fmt: skip


def test_plateau_is_the_first_fully_correct_epoch():
    p = STUDY.default_config()["odor"].with_overrides({"H": 32})
    b = make_batch(p, [Seed("overtraining", "test", 0), Seed("overtraining", "test", 1)])
    tp, W, a = plateau(p, b)
    from theorylab.studies.overtraining.common import margins

    assert np.all(margins(p, b, W, a).min(axis=1) > 0)
    Wb, ab, _ = train(p, b, b.W0, b.a0, tp - 1)
    assert np.all(margins(p, b, Wb, ab).min(axis=1) <= 0)
    with pytest.raises(ConfigError) as info:
        plateau(p.with_overrides({"max_epochs": 2}), b)
    assert info.value.field == "max_epochs"


def test_readout_reversal_counts_steps_to_fit():
    rng = np.random.default_rng(6)
    h = rng.standard_normal((1, 20, 5))
    y = np.sign(h[0] @ rng.standard_normal(5))[None]
    w = np.full((1, 20), 1 / 20)
    steps, ok = sim.readout_reversal(h, y, w, lr=1.0, cap=10_000)
    v, n = np.zeros(5), 0
    while np.any(y[0] * (h[0] @ v) <= 0):
        u = y[0] * (h[0] @ v)
        v += h[0].T @ (w[0] * y[0] / (1 + np.exp(u)))
        n += 1
    assert ok[0] and steps[0] == n
    _, ok = sim.readout_reversal(h, y, w, lr=1.0, cap=max(n - 1, 1))
    assert not ok[0]


# -- the neural pipeline ----------------------------------------------------------------------


def test_slope_tests_and_pooling():
    rng = np.random.default_rng(7)
    x = np.arange(18.0)
    slope, p = rec.permutation_slope(x, 2 * x + 1, rng, n_perm=999)
    assert slope == pytest.approx(2.0) and p == pytest.approx(1 / 1000)
    _, p_down = rec.permutation_slope(x, -x, rng, n_perm=999, sign=1)
    assert p_down == 1.0
    from scipy import stats

    assert rec.fisher_combine([0.1, 0.2]) == pytest.approx(
        stats.chi2.sf(-2 * np.log(0.02), 4), rel=1e-12
    )
    # under the null the permutation p-value is uniform: 5 % +- 4 SE of 400 draws
    ps = [rec.permutation_slope(x, rng.standard_normal(18), rng, 199)[1] for _ in range(400)]
    assert abs(np.mean(np.array(ps) <= 0.05) - 0.05) < 4 * np.sqrt(0.05 * 0.95 / 400)


def test_decoding_accuracy_against_known_separation():
    rng = np.random.default_rng(8)
    y = np.r_[np.ones(200), np.zeros(200)]
    same = rng.standard_normal((400, 10))
    acc = rec.decoding_accuracy(same, y)
    assert abs(acc - 0.5) < 4 * np.sqrt(0.25 / 400)
    # one axis separated by d' = 2: Bayes accuracy Phi(1) = 0.841
    R = rng.standard_normal((400, 10))
    R[:200, 0] += 2.0
    from scipy.stats import norm

    assert rec.decoding_accuracy(R, y) == pytest.approx(norm.cdf(1.0), abs=4 * 0.018 + 0.01)
    width, dist = rec.svm_margin(R, y)
    assert width > 0 and dist > 0
    with pytest.raises(ConfigError) as info:
        rec.decoding_accuracy(R, y, folds=1)
    assert info.value.field == "folds"


def test_load_recordings_round_trip_and_clear_errors(tmp_path):
    with pytest.raises(DataError, match="Berners-Lee"):
        rec.load_recordings(tmp_path / "missing")
    rng = np.random.default_rng(9)
    for mouse in ("m1", "m2"):
        (tmp_path / mouse).mkdir()
        for day in range(3):
            np.savez(
                tmp_path / mouse / f"day{day:02d}.npz",
                responses=rng.standard_normal((20, 4)),
                labels=np.r_[np.ones(10), np.zeros(10)],
            )
    (tmp_path / "m1" / "start.txt").write_text("1")
    r = rec.load_recordings(tmp_path)
    assert sorted(r.mice) == ["m1", "m2"] and len(r.mice["m1"]) == 3
    assert r.overtraining_start == {"m1": 1, "m2": 0}
    assert r.mice["m2"][0].responses.shape == (20, 4) and np.isnan(r.mice["m2"][0].choices).all()
    m = rec.analyze_day(r.mice["m1"][0])
    assert set(m) == {"decoding", "margin", "svm_width", "stn", "behavior"}
    np.savez(tmp_path / "m2" / "day99.npz", responses=np.ones((3, 2)))
    with pytest.raises(DataError, match="labels"):
        rec.load_recordings(tmp_path)


# -- configuration and the quick preset -------------------------------------------------------


@pytest.mark.parametrize(
    ("override", "field"),
    [
        ({"n": 100}, "n"),
        ({"eta": -1}, "eta"),
        ({"odor.span": 5}, "odor.span"),
        ({"reversal.lengths": (0.0, 1.0)}, "reversal.lengths"),
        ({"reversal.net_lengths": (2.0,)}, "reversal.net_lengths"),
        ({"neural.neurons": 500}, "neural.neurons"),
        ({"linear.window": 6000}, "linear.window"),
        ({"dtype": "float16"}, "dtype"),
    ],
)
def test_bad_config_names_the_field(override, field):
    with pytest.raises(ConfigError) as info:
        STUDY.preset("quick").with_overrides(override)
    assert info.value.field == field


def test_cli_bad_value_exits_2(monkeypatch, tmp_path):
    monkeypatch.setitem(REGISTRY, "overtraining", MODULE)
    r = CliRunner().invoke(
        app, ["run", "overtraining", "--set", "reversal.readout_lr=-1", "--out", str(tmp_path)]
    )
    assert r.exit_code == 2
    lines = [ln for ln in r.output.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: reversal.readout_lr=")


@pytest.fixture(scope="module")
def quick(tmp_path_factory):
    import theorylab

    added = "overtraining" not in REGISTRY
    REGISTRY.setdefault("overtraining", MODULE)
    try:
        return theorylab.run("overtraining", out=tmp_path_factory.mktemp("ot"))
    finally:
        if added:
            del REGISTRY["overtraining"]


def test_quick_preset_passes_with_the_declared_checks(quick):
    assert [c.name for c in quick.checks] == STUDY.check_names()
    failed = [c.name for c in quick.checks if not c.passed]
    assert not failed, failed
    kinds = [c.kind for c in quick.checks]
    assert kinds.count("agreement") >= 3 and kinds.count("claim") >= 4
    s = json.loads((quick.out_dir / "summary.json").read_text())
    assert len(s["figures"]) >= 5
    for f in s["figures"]:
        assert (quick.out_dir / f).stat().st_size > 10_000


def test_quick_tables_hold_the_claims(quick):
    sims = quick.simulation
    odor = sims[sims.experiment == "odor"]
    summ = odor[odor.part == "summary"].set_index(["loss", "seed"]).window_change
    assert (summ["hinge"] == 0).all() and (summ["logistic"] > 1e-3).all()
    rev = sims[(sims.experiment == "reversal") & (sims.protocol == "readout_only")]
    a = rev.pivot(index="seed", columns="length", values="alignment")
    assert (a[10.0] > a[0.0]).all() and (a[0.0] > a[-1.0]).all()
    neural = sims[(sims.experiment == "neural") & (sims.part == "day")]
    pre = neural[~neural.overtraining.astype(bool)]
    # before the plateau learning and null are the same network: identical recordings
    lp = pre[pre.condition == "learning"].decoding.to_numpy()
    np.testing.assert_array_equal(lp, pre[pre.condition == "null"].decoding.to_numpy())
