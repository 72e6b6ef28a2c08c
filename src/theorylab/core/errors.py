"""Exception hierarchy shared by every study.

Every error a user can cause (bad configuration, missing data, a solver that
does not converge, a simulation that diverges) is a :class:`TheorylabError`;
the CLI turns it into one line on stderr and exit code 2 (or 1 for a failed
check).  Anything else escaping the library is a bug.
"""

from __future__ import annotations


class TheorylabError(Exception):
    """Base class of every error theorylab raises on purpose."""


class ConfigError(TheorylabError, ValueError):
    """A configuration field (or function argument) has a bad value.

    Parameters
    ----------
    field : str
        Name of the offending field or argument.
    value : object
        The value that was given.
    allowed : str
        Human-readable description of what is allowed.
    """

    def __init__(self, field: str, value: object, allowed: str):
        self.field = field
        self.value = value
        self.allowed = allowed
        shown = repr(value)
        if len(shown) > 60:  # a 309-digit integer or a long array: say what it is, briefly
            shown = shown[:40] + f"...({len(shown)} characters)"
        super().__init__(f"{field}={shown} is invalid: {allowed}")


class SolverError(TheorylabError, ArithmeticError):
    """A numerical solver failed to converge.

    Parameters
    ----------
    message : str
        What was being solved.
    residual : float
        The largest residual left when the solver stopped.
    iterations : int, optional
        Iterations spent.
    """

    def __init__(self, message: str, residual: float, iterations: int | None = None):
        self.residual = float(residual)
        self.iterations = iterations
        extra = f" after {iterations} iterations" if iterations is not None else ""
        super().__init__(f"{message}: did not converge{extra} (residual {self.residual:.3g})")


class DataError(TheorylabError, OSError):
    """A data set is missing or unreadable; the message says how to get it."""


class DivergenceError(TheorylabError, FloatingPointError):
    """A simulation diverged (non-finite or exploding loss).

    Parameters
    ----------
    message : str
        What diverged.
    step : int
        The first training step at which the divergence was detected.
    """

    def __init__(self, message: str, step: int):
        self.step = int(step)
        super().__init__(f"{message}: diverged at step {self.step}")


def check_array(
    name: str,
    value,
    *,
    positive: bool = False,
    nonnegative: bool = False,
    finite: bool = True,
    ndim: int | None = None,
):
    """Validate a numeric array argument and return it as float64.

    Parameters
    ----------
    name : str
        Argument name used in the error message.
    value : array_like
        The argument.
    positive, nonnegative : bool
        Require every entry to be > 0 (resp. >= 0).
    finite : bool
        Reject +-inf (NaN is always rejected).
    ndim : int, optional
        Required number of dimensions.

    Returns
    -------
    numpy.ndarray
        ``value`` as a float64 array.

    Raises
    ------
    ConfigError
        If the value is complex, not numeric, not finite, or has the wrong
        shape or sign.
    """
    import numpy as np

    if np.iscomplexobj(value):
        raise ConfigError(name, "complex array", "must be real")
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ConfigError(name, value, "must be a numeric array") from exc
    if ndim is not None and arr.ndim != ndim:
        raise ConfigError(name, f"array of shape {arr.shape}", f"must have {ndim} dimension(s)")
    if arr.size and np.isnan(arr).any():
        raise ConfigError(name, "array with NaN", "must not contain NaN")
    if finite and arr.size and not np.isfinite(arr).all():
        raise ConfigError(name, "array with inf", "every entry must be finite")
    if positive and arr.size and not (arr > 0).all():
        raise ConfigError(name, f"array with min {arr.min():.3g}", "every entry must be > 0")
    if nonnegative and arr.size and not (arr >= 0).all():
        raise ConfigError(name, f"array with min {arr.min():.3g}", "every entry must be >= 0")
    return arr


def check_scalar(name: str, value, allowed: str = "must be a finite real number", ok=None) -> float:
    """Validate a real scalar argument and return it as a float.

    Parameters
    ----------
    name : str
        Argument name used in the error message.
    value : object
        The argument; bools, strings, complex numbers and arrays are rejected.
    allowed : str
        What the error message says the argument must be.
    ok : callable, optional
        ``ok(x) -> bool``, an extra condition on the finite float ``x``.

    Returns
    -------
    float

    Raises
    ------
    ConfigError
        If ``value`` is not a finite real number satisfying ``ok``.
    """
    import numpy as np

    if (
        isinstance(value, (bool, np.bool_, str, bytes))
        or np.iscomplexobj(value)
        or np.ndim(value) != 0
    ):
        raise ConfigError(name, value, allowed)
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise ConfigError(name, value, allowed) from None
    if not np.isfinite(x) or (ok is not None and not ok(x)):
        raise ConfigError(name, value, allowed)
    return x


def check_int(name: str, value, minimum: int) -> int:
    """Validate an integer argument >= ``minimum`` (an integral float such as 3.0 is accepted).

    Raises
    ------
    ConfigError
        Naming ``name``, if ``value`` is not an integer >= ``minimum``.
    """
    allowed = f"must be an integer >= {minimum}"
    return int(check_scalar(name, value, allowed, lambda v: v >= minimum and v == int(v)))
