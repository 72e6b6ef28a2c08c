"""The ``theorylab`` command line.

Exit codes: 0 every check passed; 1 a check failed; 2 bad usage, bad config,
bad ``--out`` or missing data (one line on stderr, no traceback); 3 an
internal error (a bug: one line on stderr naming the file that holds the
traceback); 130 interrupted (finished work is kept on disk).
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
import time
import traceback
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from .core.config import parse_assignments
from .core.errors import ConfigError, TheorylabError
from .core.executors import check_executor
from .core.progress import Progress
from .core.registry import get_study, list_studies
from .core.report import build_report, load_summaries
from .core.runner import MAX_SEEDS, RunResult, resolve_config, resolve_seeds, run_study
from .core.sweep import check_plot, expand_grid, parse_grid, plot_sweep, run_sweep, summarize

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    help="theorylab: theories of how neural networks learn, checked against simulation.",
)
out_console = Console()

EXIT_OK, EXIT_CHECK_FAILED, EXIT_ERROR, EXIT_INTERNAL, EXIT_INTERRUPTED = 0, 1, 2, 3, 130
EXIT_CODES = {
    EXIT_OK: "every check passed",
    EXIT_CHECK_FAILED: "a check failed (the printed table says which)",
    EXIT_ERROR: "bad usage, bad config, unwritable --out or missing data (one line on stderr)",
    EXIT_INTERNAL: "internal error, a bug (one line on stderr naming the saved traceback)",
    EXIT_INTERRUPTED: "interrupted (finished work is kept on disk; rerun to resume)",
}
_HARD_EXIT = False  # set by main(): leave at once on Ctrl-C (no interpreter teardown)


def _fail(message: str) -> typer.Exit:
    # one plain line (no wrapping, no markup) so scripts can parse it
    print(f"error: {message}", file=sys.stderr)
    return typer.Exit(EXIT_ERROR)


def _cache_dir() -> Path:
    """theorylab's cache folder: ``$THEORYLAB_CACHE`` or ``~/.cache/theorylab``."""
    return Path(os.environ.get("THEORYLAB_CACHE", Path.home() / ".cache" / "theorylab"))


def _crash_file(exc: BaseException) -> Path:
    """Write the traceback of an unexpected error to a file and return its path."""
    folder = _cache_dir()
    text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    for base in (folder / "crashes", Path(tempfile.gettempdir())):
        try:
            base.mkdir(parents=True, exist_ok=True)
            path = base / f"theorylab-crash-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}.txt"
            path.write_text(f"theorylab {' '.join(sys.argv[1:])}\n\n{text}")
            return path
        except OSError:
            continue
    return Path("<unwritable>")


def _interrupted() -> typer.Exit:
    print("interrupted: finished work is kept on disk; rerun to resume", file=sys.stderr)
    if _HARD_EXIT:
        # XLA, Dask and pool threads at interpreter teardown after a Ctrl-C can crash the
        # process (a segfault was seen); every output file is already written atomically
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(EXIT_INTERRUPTED)
    return typer.Exit(EXIT_INTERRUPTED)


@contextlib.contextmanager
def _guard():
    """Library errors: one line, exit 2; interrupts: exit 130; anything else: exit 3."""
    try:
        yield
    except TheorylabError as exc:
        raise _fail(str(exc)) from None
    except KeyboardInterrupt:
        raise _interrupted() from None
    except (typer.Exit, typer.Abort, typer.TyperException):
        raise
    except Exception as exc:
        path = _crash_file(exc)
        msg = str(exc).splitlines()[0] if str(exc) else ""
        print(
            f"internal error: {type(exc).__name__}: {msg} (a bug; traceback saved to {path})",
            file=sys.stderr,
        )
        raise typer.Exit(EXIT_INTERNAL) from None


def _check_out(out: Path) -> None:
    """An --out that cannot be written is a usage error, found before any work starts."""
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise ConfigError("out", str(out), "exists and is not a directory")
    try:
        out.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=".theorylab-write-test.", dir=out)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise ConfigError("out", str(out), f"not a writable directory ({exc.strerror})") from None


def _int_option(name: str, text: str | None, lo: int, hi: int) -> int | None:
    if text is None:
        return None
    try:
        v = int(text.strip())
    except ValueError:
        raise ConfigError(name, text, f"expected an integer between {lo} and {hi}") from None
    if not lo <= v <= hi:
        raise ConfigError(name, text, f"must be between {lo} and {hi}")
    return v


QuietOption = Annotated[
    bool,
    typer.Option(
        "--quiet",
        "-q",
        help="no progress output (default: a bar on a terminal, timestamped lines otherwise)",
    ),
]


def _checks_table(result: RunResult) -> Table:
    s = result.summary
    table = Table(title=f"{s['study']} ({s['preset']}): {'PASSED' if result.passed else 'FAILED'}")
    for col in ("experiment", "check", "kind", "value", "op", "threshold", "pass"):
        table.add_column(col)
    for c in result.checks:
        table.add_row(
            c.experiment,
            c.name,
            c.kind,
            f"{c.value:.4g}",
            c.op,
            f"{c.threshold:.4g}",
            "[green]pass[/green]" if c.passed else "[red]FAIL[/red]",
        )
    return table


def _validate_run(study: str, **kw) -> None:
    """Everything cheap, before any progress bar or work starts (exit 2 on error)."""
    s = get_study(study)
    resolve_config(s, kw.get("preset", "quick"), kw.get("overrides"))
    s.select(kw.get("only"))
    resolve_seeds(s, kw.get("preset", "quick"), kw.get("seeds"))
    check_executor(kw.get("executor", "serial"), kw.get("workers"))
    _check_out(kw["out"])


def _run_one(study: str, *, quiet: bool = False, label: str | None = None, **kw) -> RunResult:
    with Progress(label or study, "off" if quiet else "auto") as progress:
        return run_study(study, progress=progress, **kw)


@app.command("list")
def list_cmd() -> None:
    """List the registered studies, one line each."""
    with _guard():
        from .studies import CATALOGUE

        for sid in list_studies():
            if sid in CATALOGUE:  # built-in: no import of the study (JAX, PyTorch) needed
                title, arxiv = CATALOGUE[sid]
            else:
                s = get_study(sid)
                title, arxiv = s.title, s.paper.arxiv
            out_console.print(
                f"[bold]{sid:<20}[/bold] {escape(title)}  (arXiv {arxiv})", soft_wrap=True
            )


@app.command()
def show(study: Annotated[str, typer.Argument(help="study id")]) -> None:
    """Show a study's paper, config fields with defaults and allowed ranges, and presets."""
    with _guard():
        s = get_study(study)
        out_console.print(f"[bold]{s.id}[/bold]: {escape(s.title)}", soft_wrap=True)
        out_console.print(
            escape(f"paper: {s.paper.title} ({s.paper.authors}; {s.paper.url})"), soft_wrap=True
        )
        default = s.default_config()
        info = {f.name: f for f in default.fields_info()}
        shared = default.shared.field_names()
        if shared:
            out_console.print(_fields_table("study-level fields", [info[n] for n in shared]))
        for e in s.experiments:
            names = [n for n in info if n.startswith(e.name + ".")]
            title = f"experiment {e.name}: {e.doc}"
            if e.check_names:
                title += f" (checks: {', '.join(e.check_names)})"
            out_console.print(_fields_table(title, [info[n] for n in names]))
        flat = default.to_dict()
        for name in s.presets:
            diff = {k: v for k, v in s.preset(name).to_dict().items() if v != flat[k]}
            changes = ", ".join(f"{k}={v}" for k, v in diff.items()) or "the defaults"
            out_console.print(
                f"preset [bold]{name}[/bold] (seeds {s.default_seeds(name)}): {escape(changes)}",
                soft_wrap=True,
            )


def _fields_table(title: str, fields) -> Table:
    table = Table(title=escape(title), title_justify="left")
    for col in ("field", "type", "default", "allowed", "meaning"):
        table.add_column(col, overflow="fold")
    for f in fields:
        doc = f.doc + (f" [{f.unit}]" if f.unit else "")
        table.add_row(*(escape(str(v)) for v in (f.name, f.type, f.default, f.allowed, doc)))
    if not fields:
        table.add_row("(none)", "", "", "", "")
    return table


@app.command()
def run(
    study: Annotated[str, typer.Argument(help="study id (see `theorylab list`)")],
    preset: Annotated[str, typer.Option(help="preset: quick or full")] = "quick",
    set_: Annotated[
        list[str] | None,
        typer.Option(
            "--set", help="override a field: EXPERIMENT.FIELD=value, or FIELD=value (study-level)"
        ),
    ] = None,
    only: Annotated[
        str | None, typer.Option(help="run only these experiments (comma-separated)")
    ] = None,
    seeds: Annotated[str | None, typer.Option(help="number of seeds (default: preset's)")] = None,
    out: Annotated[Path, typer.Option(help="output root; writes OUT/STUDY/")] = Path("runs"),
    executor: Annotated[str, typer.Option(help="serial | processes | dask")] = "serial",
    address: Annotated[str | None, typer.Option(help="Dask scheduler address")] = None,
    workers: Annotated[str | None, typer.Option(help="local workers")] = None,
    quiet: QuietOption = False,
) -> None:
    """Run one study: theory, simulation, checks, figures; write OUT/STUDY/."""
    with _guard():
        overrides = parse_assignments(set_ or [])
        kw = dict(
            preset=preset,
            overrides=overrides,
            only=only,
            seeds=_int_option("seeds", seeds, 1, MAX_SEEDS),
            out=out,
            executor=executor,
            address=address,
            workers=_int_option("workers", workers, 1, 4096),
        )
        _validate_run(study, **kw)
        result = _run_one(study, quiet=quiet, **kw)
        out_console.print(_checks_table(result))
        out_console.print(f"outputs: {result.out_dir}")
    raise typer.Exit(EXIT_OK if result.passed else EXIT_CHECK_FAILED)


@app.command()
def reproduce(
    preset: Annotated[str, typer.Option(help="preset for every study")] = "quick",
    only: Annotated[str | None, typer.Option(help="comma-separated study ids")] = None,
    out: Annotated[Path, typer.Option(help="output directory")] = Path("report"),
    seeds: Annotated[str | None, typer.Option(help="number of seeds")] = None,
    executor: Annotated[str, typer.Option(help="serial | processes | dask")] = "serial",
    address: Annotated[str | None, typer.Option(help="Dask scheduler address")] = None,
    workers: Annotated[str | None, typer.Option(help="local workers")] = None,
    quiet: QuietOption = False,
) -> None:
    """Run every registered study (or --only some) and write OUT/index.html."""
    with _guard():
        ids = list_studies()
        if only:
            ids = [s.strip() for s in only.split(",") if s.strip()]
            if not ids:
                raise ConfigError("only", only, "needs at least one study id")
        kw = dict(
            preset=preset,
            seeds=_int_option("seeds", seeds, 1, MAX_SEEDS),
            out=out,
            executor=executor,
            address=address,
            workers=_int_option("workers", workers, 1, 4096),
        )
        for sid in ids:  # unknown ids, presets and options fail before any work
            _validate_run(sid, **kw)
    failed, errors = [], []
    t0 = time.perf_counter()
    for k, sid in enumerate(ids, 1):
        with _guard():
            try:
                result = _run_one(sid, quiet=quiet, label=f"{sid} (study {k}/{len(ids)})", **kw)
            except TheorylabError as exc:
                print(f"error: {sid}: {exc}", file=sys.stderr)
                errors.append(sid)
                continue
        out_console.print(_checks_table(result))
        if not result.passed:
            failed.append(sid)
    with _guard():
        index = build_report(out)
    out_console.print(
        f"{len(ids) - len(failed) - len(errors)}/{len(ids)} studies passed in "
        f"{time.perf_counter() - t0:.1f} s; report: {index}"
    )
    if errors:
        raise typer.Exit(EXIT_ERROR)
    raise typer.Exit(EXIT_CHECK_FAILED if failed else EXIT_OK)


@app.command()
def report(directory: Annotated[Path, typer.Argument(help="a --out directory")]) -> None:
    """Rebuild DIR/index.html from the study summaries in DIR."""
    with _guard():
        if not directory.is_dir():
            raise _fail(f"directory={str(directory)!r} is invalid: no such directory")
        if not load_summaries(directory):
            raise _fail(
                f"directory={str(directory)!r} is invalid: holds no study runs "
                "(no <study>/summary.json)"
            )
        index = build_report(directory)
        out_console.print(f"report: {index}")


@app.command()
def sweep(
    study: Annotated[str, typer.Argument(help="study id")],
    grid: Annotated[
        list[str] | None,
        typer.Option("--grid", help="field=v1,v2,... (repeat for a product grid)"),
    ] = None,
    preset: Annotated[str, typer.Option(help="preset the grid modifies")] = "quick",
    set_: Annotated[
        list[str] | None, typer.Option("--set", help="fixed override for every point: field=value")
    ] = None,
    seeds: Annotated[str | None, typer.Option(help="seeds per point (default: preset's)")] = None,
    out: Annotated[Path, typer.Option(help="sweep directory")] = Path("sweep"),
    executor: Annotated[str, typer.Option(help="serial | processes | dask")] = "serial",
    address: Annotated[str | None, typer.Option(help="Dask scheduler address")] = None,
    workers: Annotated[str | None, typer.Option(help="local workers")] = None,
    plot: Annotated[
        list[str] | None,
        typer.Option(help="x=field,y=check_or_column[,hue=field]: write OUT/figures/*.png"),
    ] = None,
    quiet: QuietOption = False,
) -> None:
    """Run a study at every grid point (resumable); OUT/results.parquet has a row per point."""
    with _guard():
        s = get_study(study)
        grid_map = parse_grid(grid or [])
        plots = [_parse_plot(p) for p in plot or []]
        base = parse_assignments(set_ or [])
        n_seeds = _int_option("seeds", seeds, 1, MAX_SEEDS)
        n_workers = _int_option("workers", workers, 1, 4096)
        check_executor(executor, n_workers)
        # validate every grid point and plot before any progress bar or work starts
        expand_grid(s, grid_map, preset=preset, base=base, seeds=resolve_seeds(s, preset, n_seeds))
        for spec in plots:
            check_plot(s, **spec)
        _check_out(out)
        with Progress(f"{s.id} sweep", "off" if quiet else "auto") as progress:
            result = run_sweep(
                s,
                grid_map,
                preset=preset,
                base=base,
                seeds=n_seeds,
                out=out,
                executor=executor,
                workers=n_workers,
                address=address,
                progress=progress,
            )
        counts = summarize(result.table)
        table = Table(title=f"sweep {s.id}: {counts['points']} points")
        for col in ("points", "computed now", "reused", "failed", "all checks passed"):
            table.add_column(col)
        table.add_row(
            str(counts["points"]),
            str(result.computed),
            str(result.reused),
            str(counts["failed"]),
            str(counts["passed"]),
        )
        out_console.print(table)
        out_console.print(f"computed {result.computed} points, reused {result.reused}")
        for _, row in result.table[result.table.status != "ok"].iterrows():
            out_console.print(
                f"[red]failed[/red] point {row.point} ({row.folder}): {escape(row.error)}"
            )
        for spec in plots:
            from .core.results import atomic_save_figure

            fig = plot_sweep(result.table, **spec)
            name = f"sweep_{spec['y']}_vs_{spec['x']}".replace(".", "_").replace("/", "_")
            atomic_save_figure(fig, out / "figures" / name)
            out_console.print(f"figure: {out / 'figures' / (name + '.png')}")
        out_console.print(f"results: {result.path}")
    raise typer.Exit(EXIT_OK if result.passed else EXIT_CHECK_FAILED)


def _parse_plot(spec: str) -> dict[str, str]:
    parts = parse_assignments([p for p in spec.split(",") if p.strip()], option="--plot")
    unknown = set(parts) - {"x", "y", "hue"}
    if unknown or not {"x", "y"} <= set(parts):
        raise ConfigError("--plot", spec, "expected x=field,y=check_or_column[,hue=field]")
    return parts


def _version(value: bool) -> None:
    if value:
        from . import __version__

        print(f"theorylab {__version__}")
        raise typer.Exit(EXIT_OK)


@app.callback(
    epilog="Exit codes: " + "; ".join(f"{k} {v}" for k, v in EXIT_CODES.items()) + ".",
)
def _root(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="print the version"),
    ] = False,
) -> None:
    """theorylab: theories of how neural networks learn, checked against simulation."""


def _enable_jax_cache() -> None:
    """JAX's persistent compilation cache under the user's cache folder, for the command
    line only: a second `theorylab run` reuses the first one's compiled simulations.

    ``THEORYLAB_JAX_CACHE=off`` disables it (the test suite does, so that tests never
    depend on what an earlier process compiled); an explicit ``JAX_COMPILATION_CACHE_DIR``
    wins.  Environment variables, so JAX is not imported here (``theorylab list`` stays
    fast) and process-pool workers inherit the setting.
    """
    if os.environ.get("THEORYLAB_JAX_CACHE", "on").lower() in ("off", "0", "false", "no"):
        return
    os.environ.setdefault("JAX_COMPILATION_CACHE_DIR", str(_cache_dir() / "jax"))
    # cache every compilation that took at least 0.2 s (JAX's default is 1 s)
    os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", "0.2")


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point: usage errors as one line, Ctrl-C without a crash."""
    global _HARD_EXIT
    _HARD_EXIT = True
    _enable_jax_cache()
    try:
        code = app(args=argv, standalone_mode=False)
    except typer.TyperException as exc:  # usage errors (no such option, bad value, ...)
        fmt = getattr(exc, "format_message", None)
        msg = " ".join((fmt() if fmt else str(exc)).split())
        if msg:  # (no arguments at all: the help was printed)
            print(f"error: {msg}", file=sys.stderr)
        code = EXIT_ERROR
    except (typer.Abort, KeyboardInterrupt):
        _interrupted()
        code = EXIT_INTERRUPTED
    sys.exit(code if isinstance(code, int) else EXIT_OK)


if __name__ == "__main__":  # pragma: no cover
    main()
