"""pixel_regularizer: S^pixel against a plain NumPy reference and its invariants, targets and
pair sets against their definitions, the loss forms against closed forms, the similarity taps
against their definitions, the attacks against identity / range, training determinism, and
bad inputs (ConfigError naming the argument; CLI exit 2)."""

import numpy as np
import pytest

from theorylab.core.errors import ConfigError, DataError
from theorylab.studies.pixel_regularizer import theory as th

torch = pytest.importorskip("torch", reason="the pixel_regularizer simulations need torch")

from theorylab.core.experiment import Seed  # noqa: E402
from theorylab.studies.pixel_regularizer import simulate as sim  # noqa: E402


def _raises(field, fn, *args, **kw):
    with pytest.raises(ConfigError) as err:
        fn(*args, **kw)
    assert err.value.field == field
    assert str(err.value).startswith(f"{field}=")


def _reference(images):
    flat = images.reshape(len(images), -1)
    mean = flat.sum(0) / len(flat)
    u = [(r - mean) / np.sqrt(((r - mean) ** 2).sum()) for r in flat]
    return np.array([[float((a * b).sum()) for b in u] for a in u])


# -- pixel similarity and targets -----------------------------------------------------------


@pytest.mark.parametrize("shape", [(40, 6, 5), (30, 3, 4, 4)])
def test_pixel_similarity_equals_numpy_reference(shape):
    x = np.random.default_rng(1).random(shape)
    S = th.pixel_similarity(x)
    gray = x.mean(1) if x.ndim == 4 else x
    np.testing.assert_allclose(S, _reference(gray), atol=1e-10, rtol=0)
    assert S.dtype == np.float64 and S.shape == (shape[0], shape[0])


def test_pixel_similarity_invariants():
    x = np.random.default_rng(2).random((50, 8, 8))
    S = th.pixel_similarity(x)
    np.testing.assert_array_equal(S, S.T)
    np.testing.assert_allclose(np.diag(S), 1.0, atol=1e-12)
    assert np.abs(S).max() <= 1.0
    flat = x.reshape(50, -1)
    n = np.linalg.norm(flat - flat.mean(0), axis=1)
    np.testing.assert_allclose((n[:, None] * S * n[None, :]).sum(1), 0.0, atol=1e-10)


def test_pixel_similarity_bad_inputs():
    _raises("images", th.pixel_similarity, np.zeros((5, 4)))
    _raises("images", th.pixel_similarity, np.ones((1, 3, 3)))
    _raises("images", th.pixel_similarity, [np.zeros((3, 3)), np.zeros((4, 4))])
    _raises("images", th.pixel_similarity, np.ones((4, 3, 3)))  # all equal: zero norm
    _raises("center", th.pixel_similarity, np.random.default_rng(0).random((4, 3, 3)), center="x")


def test_threshold_targets_and_pairs_partition():
    S = th.pixel_similarity(np.random.default_rng(3).random((80, 5, 5)))
    T = th.threshold_targets(S, 0.2)
    iu = np.triu_indices(80, 1)
    s, t = S[iu], T[iu]
    np.testing.assert_array_equal(t, np.where(s > 0.2, 1.0, np.where(s < -0.2, -1.0, 0.0)))
    assert set(np.unique(T)) <= {-1.0, 0.0, 1.0}
    np.testing.assert_array_equal(th.threshold_targets(S, 0.2, "pixel"), S)
    count = {r: th.select_pairs(S, 0.2, r).count for r in th.REG_RANGES}
    assert count["all"] == 80 * 79 // 2
    assert count["all"] == count["high"] + count["low"]  # no |S| equals 0.2 exactly
    assert count["positive"] == count["low"] + int((s > 0.2).sum())
    assert count["negative"] == count["low"] + int((s < -0.2).sum())
    for r in th.REG_RANGES:
        smp = th.select_pairs(S, 0.2, r)
        i, j = smp.sample(np.random.default_rng(4), 500)
        assert i.shape == (500,) and np.all(i < j) and np.all(smp.accept(i, j))


def test_lazy_sampler_is_uniform_over_all_pairs():
    S = th.pixel_similarity(np.random.default_rng(5).random((6, 3, 3)))
    smp = th.select_pairs(S, 0.5, "all")
    assert smp.listed is None  # no pair list for the dense set
    i, j = smp.sample(np.random.default_rng(6), 30000)
    counts = np.bincount(i * 6 + j, minlength=36)[
        np.triu_indices(6, 1)[0] * 6 + np.triu_indices(6, 1)[1]
    ]
    expected = 30000 / 15
    assert np.abs(counts - expected).max() < 5 * np.sqrt(expected)


@pytest.mark.parametrize("bad", [-0.1, 1.5, float("nan"), "0.5"])
def test_threshold_outside_unit_interval(bad):
    S = np.eye(3)
    _raises("th", th.threshold_targets, S, bad)
    _raises("th", th.select_pairs, S, bad)


# -- loss -------------------------------------------------------------------------------------


def test_atanh_code_form():
    x = np.linspace(-0.99, 0.99, 199)
    dev = th.atanh_code(x) - 2 * np.arctanh(x)
    np.testing.assert_allclose(dev, -2e-5 * x / (1 - x**2), rtol=0.01, atol=1e-12)
    assert np.abs(dev[np.abs(x) <= 0.9]).max() <= 1e-4
    assert th.atanh_code(1.0) == pytest.approx(np.log((2 + 1e-5) / 1e-5), rel=1e-14)
    assert th.atanh_code(1.0) == pytest.approx(12.206, abs=1e-3)
    assert th.atanh_code(-1.0) == pytest.approx(-12.206, abs=1e-3)


def test_sim_loss_forms():
    rng = np.random.default_rng(7)
    s, t = rng.uniform(-0.9, 0.9, 32), rng.choice([-1.0, 0.0, 1.0], 32)
    code = th.sim_loss(s, t)
    assert code == pytest.approx(np.mean((th.atanh_code(s) - th.atanh_code(t)) ** 2), rel=1e-14)
    assert th.sim_loss(s, t, form="paper") == pytest.approx(code / 4, rel=1e-14)
    assert th.sim_loss(s, t, form="mse") == pytest.approx(np.mean((s - t) ** 2), rel=1e-14)
    assert th.sim_loss(s, t, reduce="sum") == pytest.approx(32 * code, rel=1e-12)
    assert th.sim_loss(t, t) == 0.0
    st = torch.tensor(s, requires_grad=True)
    lt = th.sim_loss(st, torch.tensor(t))
    assert float(lt.detach()) == pytest.approx(code, rel=1e-12)
    lt.backward()
    assert torch.isfinite(st.grad).all() and (st.grad != 0).any()
    _raises("form", th.sim_loss, s, t, form="bad")
    _raises("s_tgt", th.sim_loss, s, t[:3])


# -- taps -------------------------------------------------------------------------------------


def _net(side=8, seed=0):
    return sim.TinyCNN(side, 4, 8, generator=torch.Generator().manual_seed(seed)).double()


def test_taps_identity_scale_gamma_and_gradients():
    with sim.torch_mode():
        net = _net()
        net.conv1.bias.data.zero_()
        net.conv2.bias.data.zero_()
        taps = sim.SimilarityTaps(net, net.taps())
        np.testing.assert_allclose(taps.gamma().detach().numpy(), 0.5, rtol=0, atol=1e-15)
        x = torch.rand(6, 1, 8, 8, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
        s, per = taps.similarity(x, x)
        np.testing.assert_allclose(per.detach().numpy(), 1.0, atol=1e-12)
        # bias-free ReLU net without centring: cosine invariant to input scale
        fresh = sim.SimilarityTaps(net, net.taps())
        s1, _ = fresh.similarity(x[:3], x[3:], update=False)
        s2, _ = fresh.similarity(3.0 * x[:3], x[3:], update=False)
        np.testing.assert_allclose(s1.detach().numpy(), s2.detach().numpy(), atol=1e-5)
        s, _ = taps.similarity(x[:3], x[3:])
        s.sum().backward()
        assert taps.theta.grad.abs().max() > 0 and net.conv1.weight.grad.abs().max() > 0


def test_alpha_negative_and_missing_reg_set():
    x, y = torch.zeros(4, 1, 8, 8, dtype=torch.float64), torch.zeros(4, dtype=torch.int64)
    _raises("alpha", sim.train_regularized, _net(), x, y, alpha=-1.0)
    _raises("reg_images", sim.train_regularized, _net(), x, y, alpha=1.0)


def test_training_is_bit_identical_and_lowers_the_loss():
    from sklearn.datasets import load_digits

    d = load_digits()
    x = torch.tensor(d.images[:256, None] / 16.0)
    y = torch.tensor(d.target[:256])
    S = th.pixel_similarity(d.images[:100] / 16.0)
    T, smp = th.threshold_targets(S, 0.8), th.select_pairs(S, 0.8)
    kw = dict(reg_images=x[:100], targets=T, sampler=smp, alpha=1.0, steps=60, seed=3)
    with sim.torch_mode():
        logs = [sim.train_regularized(_net(), x, y, **kw)[1] for _ in range(2)]
    np.testing.assert_array_equal(logs[0]["task"], logs[1]["task"])
    np.testing.assert_array_equal(logs[0]["sim"], logs[1]["sim"])
    assert logs[0]["task"][-10:].mean() < 0.7 * logs[0]["task"][:5].mean()
    assert logs[0]["gamma"].sum() == pytest.approx(1.0)


# -- attacks ----------------------------------------------------------------------------------


def test_attacks_identity_range_and_rates():
    g = torch.Generator().manual_seed(0)
    x = torch.rand(20, 1, 8, 8, generator=g, dtype=torch.float64) * 0.6 + 0.2
    for fn in (sim.gaussian_noise, sim.uniform_noise, sim.salt_pepper):
        assert torch.equal(fn(x, 0.0, g), x)
        xa = fn(x, 0.5, g)
        lo, hi = x.amin((1, 2, 3), keepdim=True), x.amax((1, 2, 3), keepdim=True)
        assert bool((xa >= lo).all() and (xa <= hi).all())
    # interior pixels: every salt-and-pepper hit moves them, so the rate is eps
    changed = float((sim.salt_pepper(x, 0.2, g) != x).double().mean())
    assert changed == pytest.approx(0.2, abs=4 * np.sqrt(0.2 * 0.8 / x.numel()) + 0.01)
    y = torch.zeros(20, dtype=torch.int64)
    assert torch.equal(sim.fgsm_transfer(_net(), x, y, 0.0), x)
    xf = sim.fgsm_transfer(_net(), x, y, 0.05)
    assert float((xf - x).abs().max()) == pytest.approx(0.05 * float(x.max() - x.min()))


def test_boundary_attack_finds_adversarials():
    with sim.torch_mode():
        net = _net().float()
        x = torch.rand(4, 1, 8, 8, generator=torch.Generator().manual_seed(2))
        d2, ok = sim.boundary_attack(net, x, steps=20, seed=1)
    assert ok.shape == (4,) and ok.any()
    assert np.all(d2[ok] > 0) and np.all(np.isnan(d2[~ok]))


# -- data and CLI -----------------------------------------------------------------------------


def test_missing_fashion_mnist_is_a_data_error(monkeypatch, tmp_path):
    from theorylab.core import data

    monkeypatch.setattr(data, "DEBIAN_FASHION_MNIST", tmp_path / "none")
    monkeypatch.setenv("THEORYLAB_DATA", str(tmp_path))
    monkeypatch.setattr(data, "data_dirs", lambda: [tmp_path])
    data._fashion_mnist_cached.cache_clear()
    try:
        with pytest.raises(DataError, match="dataset-fashion-mnist"):
            data.load_fashion_mnist("train", 10)
    finally:
        data._fashion_mnist_cached.cache_clear()


def test_cli_bad_value_exits_2(monkeypatch, tmp_path):
    from typer.testing import CliRunner

    from theorylab.cli import app
    from theorylab.studies import REGISTRY

    monkeypatch.setitem(REGISTRY, "pixel_regularizer", "theorylab.studies.pixel_regularizer")
    res = CliRunner().invoke(
        app, ["run", "pixel_regularizer", "--set", "robustness.th=1.5", "--out", str(tmp_path)]
    )
    assert res.exit_code == 2
    assert "robustness.th" in res.output


def test_seed_streams_are_name_derived():
    a = Seed("pixel_regularizer", "robustness", 0)
    assert a.integer("model", "init") == Seed("pixel_regularizer", "robustness", 0).integer(
        "model", "init"
    )
    assert a.integer("model", "init") != a.integer("surrogate", "init")


def test_robustness_simulation_is_bit_identical_on_rerun():
    """Training, noise, FGSM, Boundary, Square and PGD: the same seed gives the same table."""
    import dataclasses

    import pandas as pd

    from theorylab.studies.pixel_regularizer.experiments import robustness as rb

    tiny = dict(
        n_train=128,
        n_test=20,
        n_reg=32,
        steps=4,
        c1=2,
        boundary_images=3,
        boundary_steps=5,
        square_images=4,
        square_queries=4,
        pgd_steps=2,
    )
    try:
        p = dataclasses.replace(rb.Params(), **tiny).validate()
        seed = Seed("pixel_regularizer", "robustness", 0)
        a, b = rb.simulate(p, seed), rb.simulate(p, seed)
    except DataError as exc:
        pytest.skip(f"Fashion-MNIST is not installed: {exc}")
    pd.testing.assert_frame_equal(a, b, check_exact=True)
    assert set(a.attack) == {
        "gaussian",
        "uniform",
        "salt_pepper",
        "fgsm_transfer",
        "square",
        "pgd",
        "boundary",
    }
