"""Progress for long runs: a bar on a terminal or in Jupyter, timestamped lines elsewhere.

A :class:`Progress` is told what a run is doing (:meth:`Progress.stage`) and how
many of its tasks are done (:meth:`Progress.advance`).  Three renderings:

* ``"bar"``: a rich progress bar on stderr (a terminal, or a notebook through
  rich's Jupyter support), removed when the run ends;
* ``"lines"``: one plain timestamped line per stage and per finished task (at
  most one task line every 2 s; logged, piped and batch runs: CI, SLURM,
  ``> log 2>&1``), plus a heartbeat
  line whenever nothing was printed for ``heartbeat_s`` seconds, so a log never
  goes silent during a long task;
* ``"off"``: nothing (``--quiet``, ``progress=False``).

``"auto"`` picks ``"bar"`` when stderr is a terminal or the code runs in
Jupyter, ``"lines"`` otherwise.
"""

from __future__ import annotations

import sys
import threading
import time
from typing import TextIO

MODES = ("auto", "bar", "lines", "off")
HEARTBEAT_S = 10.0


def _in_jupyter() -> bool:
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and type(shell).__name__ == "ZMQInteractiveShell"


def resolve_mode(progress: bool | str | None) -> str:
    """``True``/``None`` -> ``"auto"`` resolved; ``False`` -> ``"off"``; a mode name as given.

    Raises
    ------
    ValueError
        On an unknown mode name.
    """
    if progress is False:
        return "off"
    mode = "auto" if progress in (True, None) else progress
    if mode not in MODES:
        raise ValueError(f"progress={progress!r} is invalid: expected a bool or one of {MODES}")
    if mode == "auto":
        stream = sys.stderr
        tty = bool(getattr(stream, "isatty", lambda: False)())
        return "bar" if tty or _in_jupyter() else "lines"
    return mode


def _duration(seconds: float) -> str:
    seconds = max(0.0, seconds)
    if seconds < 60:
        return f"{seconds:.0f} s"
    if seconds < 3600:
        return f"{seconds // 60:.0f} min {seconds % 60:02.0f} s"
    return f"{seconds // 3600:.0f} h {seconds % 3600 // 60:02.0f} min"


class Progress:
    """What a run reports as it goes; use as a context manager.

    Parameters
    ----------
    label : str
        Prefix of every line, e.g. ``"rf_ensembles (study 2/8)"``.
    mode : {"auto", "bar", "lines", "off"} or bool
        The rendering (see the module docstring).
    stream : file, optional
        Where lines go (default: ``sys.stderr`` at the time of the call).
    heartbeat_s : float
        In ``"lines"`` mode, the longest silence before a "still working" line.
    """

    def __init__(
        self,
        label: str,
        mode: bool | str | None = "auto",
        *,
        stream: TextIO | None = None,
        heartbeat_s: float = HEARTBEAT_S,
    ) -> None:
        self.label = label
        self.mode = resolve_mode(mode)
        self._stream = stream
        self.heartbeat_s = float(heartbeat_s)
        self.min_gap_s = min(2.0, self.heartbeat_s)  # task lines at most this often
        self._t0 = time.monotonic()
        self._last = self._t0
        self._stage = "starting"
        self._done: int | None = None
        self._total: int | None = None
        self._t_tasks: float | None = None
        self._start_done = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._bar = None
        self._bar_task = None

    # -- context ------------------------------------------------------------------------
    def __enter__(self) -> Progress:
        if self.mode == "bar":
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                TextColumn,
                TimeElapsedColumn,
                TimeRemainingColumn,
            )
            from rich.progress import Progress as Bar

            self._bar = Bar(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                TimeRemainingColumn(),
                console=Console(file=self._stream or sys.stderr),
                transient=True,
            )
            self._bar.__enter__()
            self._bar_task = self._bar.add_task(f"{self.label}: starting", total=None)
        elif self.mode == "lines":
            self._thread = threading.Thread(target=self._heartbeat, daemon=True)
            self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=1.0)
        if self._bar is not None:
            self._bar.__exit__(*exc)

    # -- what the run reports ---------------------------------------------------------
    def stage(self, text: str) -> None:
        """A new stage starts (``"theory: scaling"``, ``"checks and figures"``)."""
        with self._lock:
            self._stage = text
        if self._bar is not None:
            self._bar.update(self._bar_task, description=f"{self.label}: {text}")
        self._line(text)

    def advance(self, done: int, total: int, what: str = "tasks") -> None:
        """``done`` of ``total`` tasks are finished (first call: the count before any work)."""
        now = time.monotonic()
        with self._lock:
            first = self._t_tasks is None or self._total != total
            if first:
                self._t_tasks, self._start_done = now, done
            self._done, self._total = done, total
        if self._bar is not None:
            self._bar.update(self._bar_task, completed=done, total=total)
            return
        if (first and done == 0) or (done < total and now - self._last < self.min_gap_s):
            return
        self._line(f"{what} {done}/{total}{self._eta(now)}")

    # -- rendering ------------------------------------------------------------------------
    def _eta(self, now: float) -> str:
        if self._done is None or self._t_tasks is None or not self._total:
            return ""
        fresh = self._done - self._start_done
        if fresh <= 0 or self._done >= self._total:
            return ""
        rate = (now - self._t_tasks) / fresh
        return f", ETA {_duration(rate * (self._total - self._done))}"

    def _line(self, text: str) -> None:
        if self.mode != "lines":
            return
        now = time.monotonic()
        stamp = time.strftime("%H:%M:%S")
        msg = f"[{stamp}] {self.label}: {text} (elapsed {_duration(now - self._t0)})"
        stream = self._stream or sys.stderr
        with self._lock:
            self._last = now
            try:
                print(msg, file=stream, flush=True)
            except (OSError, ValueError):  # a closed stream must not break the run
                pass

    def _heartbeat(self) -> None:
        while not self._stop.wait(min(1.0, self.heartbeat_s / 4)):
            now = time.monotonic()
            if now - self._last >= self.heartbeat_s:
                with self._lock:
                    stage, done, total = self._stage, self._done, self._total
                tasks = f", {done}/{total} tasks done" if total else ""
                self._line(f"still working: {stage}{tasks}{self._eta(now)}")
