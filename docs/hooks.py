"""MkDocs hooks of the theorylab documentation site (``mkdocs.yml``: ``hooks``).

* ``cli.md``: the marker ``<!-- cli-help -->`` is replaced at build time by the ``--help``
  text of the ``theorylab`` command and of each of its sub-commands, taken from the typer
  app in-process, so the CLI reference cannot drift from the code.
* MathJax 3 (``tex-svg-full.js``, one self-contained file with its fonts as SVG paths) is
  copied into the site from the installed ``sphinx-mathjax-offline`` package (the dev
  extra), with its configuration for ``pymdownx.arithmatex`` in generic mode: the site
  renders ``$...$`` and ``$$...$$`` with nothing fetched from the network.
"""

from __future__ import annotations

import os
import re
from importlib import metadata

from mkdocs.exceptions import PluginError
from mkdocs.structure.files import File

CLI_MARKER = "<!-- cli-help -->"
MATHJAX_DIST = "sphinx-mathjax-offline"
MATHJAX_FILE = "tex-svg-full.js"
MATHJAX_DEST = "assets/mathjax/tex-svg-full.js"
MATHJAX_CONFIG_DEST = "assets/javascripts/mathjax-config.js"

# arithmatex (generic) wraps maths in \( \) and \[ \] inside elements of class "arithmatex";
# MathJax typesets only those, and again after each instant-navigation page change
MATHJAX_CONFIG = """\
window.MathJax = {
  tex: {inline: [["\\\\(", "\\\\)"]], display: [["\\\\[", "\\\\]"]],
        processEscapes: true, processEnvironments: true},
  options: {ignoreHtmlClass: ".*|", processHtmlClass: "arithmatex"},
  svg: {fontCache: "global"}
};
if (typeof document$ !== "undefined") {
  document$.subscribe(() => {
    if (window.MathJax && MathJax.typesetPromise) {
      MathJax.startup.output.clearCache();
      MathJax.typesetClear();
      MathJax.texReset();
      MathJax.typesetPromise();
    }
  });
}
"""

_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def _mathjax_source() -> str:
    """Path of the installed MathJax bundle, or a PluginError saying how to install it."""
    try:
        files = metadata.files(MATHJAX_DIST) or []
    except metadata.PackageNotFoundError:
        files = []
    for f in files:
        if f.name == MATHJAX_FILE:
            path = str(f.locate())
            if os.path.isfile(path):
                return path
    raise PluginError(
        f"MathJax not found: the package {MATHJAX_DIST!r} (file {MATHJAX_FILE}) is not "
        "installed; install the dev extra: pip install -e '.[dev]'"
    )


def on_files(files, config):
    """Add MathJax and its configuration to the site as generated files."""
    files.append(File.generated(config, MATHJAX_DEST, abs_src_path=_mathjax_source()))
    files.append(File.generated(config, MATHJAX_CONFIG_DEST, content=MATHJAX_CONFIG))
    return files


def _help(args: list[str]) -> str:
    from typer.testing import CliRunner

    from theorylab.cli import app

    env = {"COLUMNS": "80", "TERM": "dumb", "NO_COLOR": "1", "_TYPER_FORCE_DISABLE_TERMINAL": "1"}
    result = CliRunner().invoke(app, [*args, "--help"], env=env, prog_name="theorylab")
    if result.exit_code != 0:
        raise PluginError(f"theorylab {' '.join(args)} --help exited {result.exit_code}")
    text = _ANSI.sub("", result.output)
    return "\n".join(line.rstrip() for line in text.strip("\n").splitlines())


def cli_reference() -> str:
    """Markdown of ``theorylab --help`` and of each sub-command's ``--help``."""
    import typer

    from theorylab.cli import app

    group = typer.main.get_command(app)
    parts = ["## `theorylab`", "", "```text", _help([]), "```", ""]
    for name in group.list_commands(None):  # click: the sub-commands in declaration order
        parts += [f"## `theorylab {name}`", "", "```text", _help([name]), "```", ""]
    return "\n".join(parts)


def on_page_markdown(markdown, page, config, files):
    """Fill the CLI reference from the typer app."""
    if page.file.src_uri == "cli.md" and CLI_MARKER in markdown:
        return markdown.replace(CLI_MARKER, cli_reference())
    return markdown
