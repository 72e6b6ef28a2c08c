"""Offline data loaders: shapes, ranges, filters and the missing-data message."""

from __future__ import annotations

import gzip

import numpy as np
import pytest

from theorylab.core import data
from theorylab.core.errors import DataError


def _write_idx(path, arr):
    header = bytes([0, 0, 0x08, arr.ndim]) + b"".join(d.to_bytes(4, "big") for d in arr.shape)
    with gzip.open(path, "wb") as fh:
        fh.write(header + arr.astype(np.uint8).tobytes())


@pytest.fixture
def fake_fashion(tmp_path, monkeypatch):
    """A 6-image Fashion-MNIST in $THEORYLAB_DATA with known pixels and labels."""
    folder = tmp_path / "fashion-mnist"
    folder.mkdir()
    rng = np.random.default_rng(0)
    arrays = {}
    for split, (img, lab) in data.FASHION_MNIST_FILES.items():
        images = rng.integers(0, 256, size=(6, 28, 28))
        labels = np.array([0, 6, 3, 6, 9, 0])
        _write_idx(folder / img, images)
        _write_idx(folder / lab, labels)
        arrays[split] = (images, labels)
    monkeypatch.setenv("THEORYLAB_DATA", str(tmp_path))
    data._fashion_mnist_cached.cache_clear()
    yield arrays
    data._fashion_mnist_cached.cache_clear()


def test_fashion_mnist_reads_idx_scaled_and_filtered(fake_fashion):
    images, labels = fake_fashion["test"]
    x, y = data.load_fashion_mnist("test")
    np.testing.assert_array_equal(y, labels)
    np.testing.assert_allclose(x, images / 255.0, rtol=0, atol=0)
    x, y = data.load_fashion_mnist("test", n=2, classes=(6, 0))
    np.testing.assert_array_equal(y, [0, 6])
    np.testing.assert_allclose(x, images[:2] / 255.0)


def test_fashion_mnist_bad_arguments_name_the_argument(fake_fashion):
    with pytest.raises(ValueError, match="split='valid'"):
        data.load_fashion_mnist("valid")
    with pytest.raises(ValueError, match="n=-1"):
        data.load_fashion_mnist("train", n=-1)
    with pytest.raises(ValueError, match="classes"):
        data.load_fashion_mnist("train", classes=(10,))


def test_fashion_mnist_missing_says_how_to_install(tmp_path, monkeypatch):
    monkeypatch.setenv("THEORYLAB_DATA", str(tmp_path))
    monkeypatch.setattr(data, "DEBIAN_FASHION_MNIST", tmp_path / "nowhere")
    monkeypatch.setattr(data.Path, "home", lambda: tmp_path)
    data._fashion_mnist_cached.cache_clear()
    with pytest.raises(DataError, match="apt-get install dataset-fashion-mnist"):
        data.load_fashion_mnist("train")
    data._fashion_mnist_cached.cache_clear()


def test_truncated_idx_is_a_data_error(tmp_path):
    path = tmp_path / "bad.gz"
    with gzip.open(path, "wb") as fh:
        fh.write(bytes([0, 0, 0x08, 1]) + (10).to_bytes(4, "big") + b"abc")
    with pytest.raises(DataError, match="truncated"):
        data._read_idx(path)


@pytest.mark.skipif(
    not (data.DEBIAN_FASHION_MNIST / "train-images-idx3-ubyte.gz").is_file(),
    reason="Debian's dataset-fashion-mnist is not installed (make test installs it as root)",
)
def test_debian_fashion_mnist_is_the_real_data_set():
    x, y = data.load_fashion_mnist("test")
    assert x.shape == (10000, 28, 28) and 0.0 <= x.min() and x.max() <= 1.0
    np.testing.assert_array_equal(np.bincount(y), np.full(10, 1000))
