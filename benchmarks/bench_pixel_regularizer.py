"""Costs of pixel_regularizer: the regularizer's overhead per training step, as a ratio.

The paper calls the regularizer "computationally inexpensive": a regularized
step adds 2k images (k pairs) to a task batch of B.  Measured here: the
CPU-time per step (one thread, best of 3 x 50 steps) of plain and
regularized training of the tiny CNN on Fashion-MNIST for k = 4, 16, 32
(B = 64), and the time of S^pixel for N = 1000 and 5000 images.

Usage: python benchmarks/bench_pixel_regularizer.py
"""

from __future__ import annotations

import os
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")

import dataclasses

import numpy as np

from theorylab.core.experiment import Seed
from theorylab.studies.pixel_regularizer import theory as th
from theorylab.studies.pixel_regularizer.common import Shared, fmnist, train_condition

STEPS = 50


def _per_step(p, alpha, reg, x, y):
    seed = Seed("pixel_regularizer", "bench", 0)
    best = np.inf
    for _ in range(3):
        t0 = time.process_time()
        train_condition(p, seed, x, y, side=28, path="bench", alpha=alpha, reg=reg, steps=STEPS)
        best = min(best, time.process_time() - t0)
    return best / STEPS


def main() -> None:
    x, y = fmnist("train", 5000)
    S = th.pixel_similarity(x[:1000, 0].numpy().astype(np.float64))
    reg = (x[:1000], th.threshold_targets(S, 0.8), th.select_pairs(S, 0.8))
    p = Shared()
    plain = _per_step(p, 0.0, reg, x, y)
    print(f"plain step (B = {p.batch}): {1e3 * plain:.1f} ms")
    for k in (4, 16, 32):
        t = _per_step(dataclasses.replace(p, k=k), 10.0, reg, x, y)
        print(
            f"k = {k:2d}: {1e3 * t:.1f} ms, ratio {t / plain:.2f} (images ratio "
            f"{(p.batch + 2 * k) / p.batch:.2f})"
        )
    for n in (1000, 5000):
        imgs = x[:n, 0].numpy().astype(np.float64)
        t0 = time.perf_counter()
        th.pixel_similarity(imgs)
        print(f"S^pixel, N = {n}: {time.perf_counter() - t0:.2f} s")


if __name__ == "__main__":
    main()
