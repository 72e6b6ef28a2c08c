"""The CNN, the similarity taps, regularized training and the attacks (PyTorch, CPU).

Model and procedure: docs/pixel_regularizer.md, sections "Model", "Training"
and "Attacks".  torch is imported here (the study's modules import this one
lazily); every function runs with ``torch.set_num_threads(1)`` and
deterministic algorithms, and all randomness comes from explicit
``torch.Generator`` objects (or, for the attack libraries that draw from the
global generator, a forked and seeded global state).
"""

from __future__ import annotations

import contextlib
import math

import numpy as np
import torch
from torch import nn

from theorylab.core.errors import ConfigError, DivergenceError, check_scalar

from . import theory as th

__all__ = [
    "SimilarityTaps",
    "TinyCNN",
    "accuracy",
    "boundary_attack",
    "fgsm_transfer",
    "gaussian_noise",
    "pgd_attack",
    "salt_pepper",
    "square_attack",
    "torch_mode",
    "train_regularized",
    "uniform_noise",
]


@contextlib.contextmanager
def torch_mode(seed=None):
    """One thread, deterministic kernels, and (with ``seed``) a forked, seeded global RNG.

    Parameters
    ----------
    seed : int, optional
        Seed of the global generator inside the block (attack libraries draw from it).

    Returns
    -------
    contextlib context manager
    """
    threads = torch.get_num_threads()
    det = torch.are_deterministic_algorithms_enabled()
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    try:
        if seed is None:
            yield
        else:
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(int(seed))
                yield
    finally:
        torch.set_num_threads(threads)
        torch.use_deterministic_algorithms(det)


class TinyCNN(nn.Module):
    """conv(1->c1, 3x3) ReLU maxpool2, conv(c1->c2, 3x3) ReLU maxpool2, flatten, linear.

    The CPU stand-in for the paper's ResNet18 (docs section "Model"); the
    similarity taps are the two ReLU outputs (``taps()``), the model is
    fully convolutional up to them.

    Parameters
    ----------
    side : int
        Input side (28 for Fashion-MNIST, 8 for digits).
    c1, c2 : int
        Channels.
    classes : int
    generator : torch.Generator
        Initialisation stream.
    """

    def __init__(self, side=28, c1=16, c2=32, classes=10, generator=None):
        super().__init__()
        self.conv1 = nn.Conv2d(1, c1, 3, padding=1)
        self.relu1 = nn.ReLU()
        self.conv2 = nn.Conv2d(c1, c2, 3, padding=1)
        self.relu2 = nn.ReLU()
        self.pool = nn.MaxPool2d(2)
        out = side // 4 if side >= 8 else 1
        self.fc = nn.Linear(c2 * out * out, classes)
        for m in (self.conv1, self.conv2, self.fc):
            bound = 1.0 / math.sqrt(m.weight[0].numel())
            with torch.no_grad():
                m.weight.uniform_(
                    -math.sqrt(6.0) * bound, math.sqrt(6.0) * bound, generator=generator
                )
                m.bias.uniform_(-bound, bound, generator=generator)

    def forward(self, x):
        h = self.pool(self.relu1(self.conv1(x)))
        h = self.pool(self.relu2(self.conv2(h)))
        return self.fc(h.flatten(1))

    def taps(self):
        """The tap modules (their outputs are the feature maps F_l)."""
        return [self.relu1, self.relu2]


class SimilarityTaps(nn.Module):
    """Mean-subtracted cosine similarities of tapped feature maps (docs section "Model", Eq. 2).

    Forward hooks capture the outputs F_l of ``tap_modules`` while
    :meth:`similarity` runs the model on the 2k images of k pairs.  Each tap
    keeps an EMA per-channel mean buffer m_l <- beta m_l + (1 - beta) mean
    over (pairs, H, W) of the detached features (updated first, then
    subtracted); S_l = cos(vec(F_l(x_i) - m_l), vec(F_l(x_j) - m_l)) and
    S = sum_l gamma_l S_l with gamma = softmax(theta), theta trainable, zero
    at start (gamma uniform).

    Parameters
    ----------
    model : torch.nn.Module
    tap_modules : sequence of torch.nn.Module
        Sub-modules of ``model`` whose outputs, shape (B, C_l, H_l, W_l), are tapped.
    beta : float
        EMA factor in [0, 1).
    """

    def __init__(self, model, tap_modules, beta=0.9):
        super().__init__()
        beta = check_scalar("beta", beta, "must be a number in [0, 1)", lambda v: 0 <= v < 1)
        if not tap_modules:
            raise ConfigError("tap_modules", tap_modules, "needs at least one module")
        self.model = model
        self.beta = beta
        self.n_taps = len(tap_modules)
        self.theta = nn.Parameter(torch.zeros(self.n_taps))
        for l in range(self.n_taps):
            self.register_buffer(f"mean{l}", torch.zeros(0))
        self._feats: list | None = None
        self._handles = [m.register_forward_hook(self._hook(l)) for l, m in enumerate(tap_modules)]

    def _hook(self, l):
        def hook(_module, _inp, out):
            if self._feats is not None:
                self._feats[l] = out

        return hook

    def gamma(self):
        """The layer weights softmax(theta), shape (L,)."""
        return torch.softmax(self.theta, 0)

    def features(self, x):
        """Tapped features of a batch without touching the means; list of (B, C_l, H_l, W_l)."""
        self._feats = [None] * self.n_taps
        try:
            self.model(x)
            return list(self._feats)
        finally:
            self._feats = None

    def update_means(self, feats):
        """EMA update of every tap's channel mean from detached features (B, C_l, H_l, W_l)."""
        for l, f in enumerate(feats):
            batch = f.detach().mean(dim=(0, 2, 3))
            m = getattr(self, f"mean{l}")
            if m.numel() == 0:
                m = torch.zeros_like(batch)
            setattr(self, f"mean{l}", self.beta * m + (1.0 - self.beta) * batch)

    def similarity(self, xa, xb, update=True):
        """S_CNN of k pairs and its per-tap parts.

        Parameters
        ----------
        xa, xb : torch.Tensor, shape (k, 1, H, W)
        update : bool
            Update the EMA means with this pair batch first.

        Returns
        -------
        s : torch.Tensor, shape (k,)
        per_tap : torch.Tensor, shape (L, k)
        """
        k = xa.shape[0]
        feats = self.features(torch.cat([xa, xb]))
        if update:
            self.update_means(feats)
        parts = []
        for l, f in enumerate(feats):
            m = getattr(self, f"mean{l}")
            c = (f - m.view(1, -1, 1, 1)) if m.numel() else f
            c = c.flatten(1)
            parts.append(nn.functional.cosine_similarity(c[:k], c[k:], dim=1, eps=1e-8))
        per_tap = torch.stack(parts)
        return (self.gamma()[:, None] * per_tap).sum(0), per_tap


def accuracy(model, x, y, batch=1000):
    """Top-1 accuracy of ``model`` on images ``x`` (n, 1, H, W) and labels ``y`` (n,).

    Parameters
    ----------
    model : torch.nn.Module
    x : torch.Tensor, shape (n, 1, H, W)
    y : torch.Tensor, shape (n,)
    batch : int

    Returns
    -------
    float
    """
    with torch.no_grad():
        pred = torch.cat([model(x[i : i + batch]).argmax(1) for i in range(0, len(x), batch)])
    return float((pred == y).double().mean())


def train_regularized(
    model,
    x,
    y,
    *,
    reg_images=None,
    targets=None,
    sampler=None,
    alpha=0.0,
    k=16,
    steps=300,
    batch=64,
    lr=0.05,
    momentum=0.9,
    lr_decay=(),
    form="code",
    beta=0.9,
    seed=0,
):
    """SGD on L_task + alpha L_sim, one reg batch of k pairs per task batch (docs "Training").

    Parameters
    ----------
    model : torch.nn.Module
        A model with ``taps()`` (e.g. :class:`TinyCNN`); trained in place.
    x : torch.Tensor, shape (n, 1, H, W)
    y : torch.Tensor, shape (n,)
    reg_images : torch.Tensor, shape (N, 1, H', W'), optional
        The reg set (needed when ``alpha > 0``).
    targets : numpy.ndarray, shape (N, N), optional
        Target similarities of the reg set.
    sampler : theory.PairSampler, optional
        The pair set (from :func:`theory.select_pairs`).
    alpha : float
        Regularization strength >= 0 (0: plain training, no reg forward).
    k, steps, batch : int
        Pairs per step, SGD steps, task batch size.
    lr, momentum : float
    lr_decay : tuple of float
        Fractions of ``steps`` at which the learning rate is multiplied by 0.3.
    form : {"code", "paper", "mse"}
        The similarity loss (:func:`theory.sim_loss`).
    beta : float
        EMA factor of the taps.
    seed : int
        Seed of the batch and pair streams.

    Returns
    -------
    taps : SimilarityTaps
        The taps (means, gamma) after training.
    log : dict
        ``task`` and ``sim`` losses per step, shape (steps,), and ``gamma``, shape (L,).

    Raises
    ------
    ConfigError
        On alpha < 0 or a missing reg set with alpha > 0.
    DivergenceError
        When the loss becomes non-finite (with the step).
    """
    alpha = check_scalar("alpha", alpha, "must be a number >= 0", lambda v: v >= 0)
    if alpha > 0 and (reg_images is None or targets is None or sampler is None):
        raise ConfigError(
            "reg_images", None, "reg_images, targets and sampler are needed when alpha > 0"
        )
    taps = SimilarityTaps(model, model.taps(), beta=beta)
    params = list(model.parameters()) + ([taps.theta] if alpha > 0 else [])
    opt = torch.optim.SGD(params, lr=lr, momentum=momentum)
    gen = torch.Generator().manual_seed(int(seed))
    rng = np.random.default_rng(int(seed))
    n = len(x)
    decay = sorted(int(f * steps) for f in lr_decay)
    log_task, log_sim = np.zeros(steps), np.zeros(steps)
    perm, pos = torch.randperm(n, generator=gen), 0
    for step in range(steps):
        if step in decay:
            for g in opt.param_groups:
                g["lr"] *= 0.3
        if pos + batch > n:
            perm, pos = torch.randperm(n, generator=gen), 0
        idx = perm[pos : pos + batch]
        pos += batch
        loss = nn.functional.cross_entropy(model(x[idx]), y[idx])
        log_task[step] = float(loss.detach())
        if alpha > 0:
            i, j = sampler.sample(rng, k)
            s, _ = taps.similarity(reg_images[i], reg_images[j])
            tgt = torch.as_tensor(targets[i, j], dtype=s.dtype)
            ls = th.sim_loss(s, tgt, form=form)
            log_sim[step] = float(ls.detach())
            loss = loss + alpha * ls
        if not torch.isfinite(loss):
            raise DivergenceError(f"training loss {float(loss)} is not finite", step)
        opt.zero_grad()
        loss.backward()
        opt.step()
    model.eval()
    return taps, dict(task=log_task, sim=log_sim, gamma=taps.gamma().detach().numpy())


# -- attacks (all eps in [0, 1] pixel units) --------------------------------------------------


def _clip_own(x_adv, x):
    lo = x.amin(dim=(1, 2, 3), keepdim=True)
    hi = x.amax(dim=(1, 2, 3), keepdim=True)
    return torch.maximum(torch.minimum(x_adv, hi), lo)


def gaussian_noise(x, eps, generator):
    """x' = clip(x + eps z), z ~ N(0, I), clipped to each image's [min, max] (docs "Attacks").

    Parameters
    ----------
    x : torch.Tensor, shape (n, 1, H, W)
    eps : float
        Noise standard deviation >= 0.
    generator : torch.Generator

    Returns
    -------
    torch.Tensor, shape (n, 1, H, W)
    """
    z = torch.randn(x.shape, generator=generator, dtype=x.dtype)
    return _clip_own(x + eps * z, x)


def uniform_noise(x, eps, generator):
    """x' = clip(x + u), u ~ U(-eps, eps), clipped to each image's range (docs "Attacks").

    Parameters
    ----------
    x : torch.Tensor, shape (n, 1, H, W)
    eps : float
    generator : torch.Generator

    Returns
    -------
    torch.Tensor, shape (n, 1, H, W)
    """
    u = torch.rand(x.shape, generator=generator, dtype=x.dtype) * 2.0 - 1.0
    return _clip_own(x + eps * u, x)


def salt_pepper(x, eps, generator):
    """Each pixel with probability eps gets +-1 (random sign), then clip (docs "Attacks").

    Parameters
    ----------
    x : torch.Tensor, shape (n, 1, H, W)
    eps : float
        Flip probability in [0, 1].
    generator : torch.Generator

    Returns
    -------
    torch.Tensor, shape (n, 1, H, W)
    """
    hit = torch.rand(x.shape, generator=generator, dtype=x.dtype) < eps
    sign = torch.where(torch.rand(x.shape, generator=generator, dtype=x.dtype) < 0.5, -1.0, 1.0)
    return _clip_own(x + hit.to(x.dtype) * sign, x)


def fgsm_transfer(surrogate, x, y, eps):
    """Transferred FGSM: x' = clip(x + eps (max - min) sign grad_x CE(surrogate)) (docs "Attacks").

    The gradient is the surrogate's (an independently trained unregularized
    model); clipping is to the batch's global [min, max].

    Parameters
    ----------
    surrogate : torch.nn.Module
    x : torch.Tensor, shape (n, 1, H, W)
    y : torch.Tensor, shape (n,)
    eps : float

    Returns
    -------
    torch.Tensor, shape (n, 1, H, W)
    """
    xg = x.clone().requires_grad_(True)
    loss = nn.functional.cross_entropy(surrogate(xg), y)
    (grad,) = torch.autograd.grad(loss, xg)
    lo, hi = x.min(), x.max()
    return torch.clamp(x + eps * (hi - lo) * grad.sign(), lo, hi).detach()


def boundary_attack(model, x, steps, seed):
    """foolbox 3.3.4 BoundaryAttack, untargeted against the model's own prediction (docs "Attacks").

    Each image starts from the nearest image of the batch the model predicts
    differently (foolbox's blended-noise start when the batch has one prediction; when that
    fails too, every image is a failure).

    Parameters
    ----------
    model : torch.nn.Module
    x : torch.Tensor, shape (n, 1, H, W), in [0, 1]
    steps : int
        The query budget's step count.
    seed : int
        Seed of the global generator foolbox draws from.

    Returns
    -------
    delta2 : numpy.ndarray, shape (n,)
        Per-pixel squared L2 ||x_adv - x||^2 / D (NaN where the attack failed).
    success : numpy.ndarray, shape (n,), bool
    """
    import foolbox as fb

    with torch_mode(seed):
        fmodel = fb.PyTorchModel(model.eval(), bounds=(0.0, 1.0))
        with torch.no_grad():
            pred = model(x).argmax(1)
        # start each image from the nearest image of the batch with another prediction
        # (foolbox's default blended-noise start fails on well-trained models)
        d = ((x[:, None] - x[None]) ** 2).flatten(2).sum(2)
        d[pred[:, None] == pred[None, :]] = float("inf")
        start = x[d.argmin(1)]
        attack = fb.attacks.BoundaryAttack(steps=int(steps), tensorboard=False)
        kw = dict(starting_points=start) if bool(torch.isfinite(d.min(1).values).all()) else {}
        try:
            _, adv, ok = attack(fmodel, x, fb.criteria.Misclassification(pred), epsilons=None, **kw)
        except ValueError:  # no adversarial start found: every image counts as a failure
            return np.full(len(x), np.nan), np.zeros(len(x), dtype=bool)
    d2 = ((adv - x) ** 2).flatten(1).mean(1).detach().numpy().astype(np.float64)
    ok = ok.numpy().astype(bool)
    return np.where(ok, d2, np.nan), ok


def square_attack(model, x, y, eps, queries, seed):
    """torchattacks 3.5.1 Square (L-inf, score-based); returns the adversarial images.

    Parameters
    ----------
    model : torch.nn.Module
    x : torch.Tensor, shape (n, 1, H, W), in [0, 1]
    y : torch.Tensor, shape (n,)
    eps : float
    queries : int
    seed : int

    Returns
    -------
    torch.Tensor, shape (n, 1, H, W)
    """
    import torchattacks

    with torch_mode(seed):
        atk = torchattacks.Square(
            model.eval(), norm="Linf", eps=eps, n_queries=int(queries), seed=0
        )
        return atk(x, y).detach()


def pgd_attack(model, x, y, eps, steps, seed):
    """torchattacks 3.5.1 white-box PGD (L-inf, step 2.5 eps / steps, random start).

    Parameters
    ----------
    model : torch.nn.Module
    x : torch.Tensor, shape (n, 1, H, W), in [0, 1]
    y : torch.Tensor, shape (n,)
    eps : float
    steps : int
    seed : int

    Returns
    -------
    torch.Tensor, shape (n, 1, H, W)
    """
    import torchattacks

    with torch_mode(seed):
        atk = torchattacks.PGD(model.eval(), eps=eps, alpha=2.5 * eps / steps, steps=int(steps))
        return atk(x, y).detach()
