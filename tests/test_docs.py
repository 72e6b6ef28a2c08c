"""The documentation site builds with ``mkdocs build --strict`` and holds every page it promises.

One build (about 15 s on 2 cores) into a temporary folder, shared by the tests of this module.
"""

from __future__ import annotations

import ast
import html
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("mkdocs", reason="mkdocs is not installed (it comes with the dev extra)")
pytest.importorskip("mkdocstrings", reason="mkdocstrings is not installed (the dev extra)")
pytest.importorskip("material", reason="mkdocs-material is not installed (the dev extra)")

import theorylab

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"

pytestmark = pytest.mark.xdist_group("docs")


def _build(config: Path, out: Path) -> subprocess.CompletedProcess:
    # no --quiet: in mkdocs 1.6 it hides the warnings that --strict counts (the build then passes)
    cmd = [sys.executable, "-m", "mkdocs", "build", "--strict", "-f", str(config), "-d", str(out)]
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    return subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("site")
    proc = _build(ROOT / "mkdocs.yml", out)
    assert proc.returncode == 0, f"mkdocs build --strict failed:\n{proc.stdout}\n{proc.stderr}"
    assert "WARNING" not in proc.stderr, proc.stderr
    return out


def test_strict_build_fails_on_a_broken_link(tmp_path):
    """The site's own settings (strict, validation) turn broken links into a failure."""
    import yaml

    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text())
    assert config["strict"] is True
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "index.md").write_text("# Home\n\nSee [the page](page.md) and [gone](missing.md).\n")
    (docs / "page.md").write_text("# Page\n\n[home](index.md#no-such-heading)\n")
    for key in ("hooks", "extra_javascript", "exclude_docs"):
        config.pop(key, None)
    config.update(docs_dir=str(docs), nav=["index.md", "page.md"], plugins=["search"])
    path = tmp_path / "mkdocs.yml"
    path.write_text(yaml.safe_dump(config))
    proc = _build(path, tmp_path / "site")
    assert proc.returncode != 0, "a broken link passed the strict build"
    assert "missing.md" in proc.stderr and "no-such-heading" in proc.stderr, proc.stderr


def _text(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def test_every_study_has_a_page_and_a_theory_api_page(site):
    studies = theorylab.list_studies()
    assert studies, "no study registered"
    for study in studies:
        page = site / f"{study}.html"
        assert page.is_file(), f"no docs page for study {study!r} (docs/{study}.md)"
        api = site / "api" / "studies" / f"{study}.html"
        assert api.is_file(), f"no API page for {study!r} (docs/api/studies/{study}.md)"
        # the API page rendered the module (mkdocstrings headings carry the dotted path)
        assert f'id="theorylab.studies.{study}.theory.' in _text(api), study


def test_every_api_page_is_built_and_rendered(site):
    sources = sorted((DOCS / "api").rglob("*.md"))
    assert len(sources) >= 11
    for src in sources:
        rel = src.relative_to(DOCS).with_suffix(".html")
        built = site / rel
        assert built.is_file(), f"{rel} missing from the site"
        idents = re.findall(r"^::: (\S+)", _text(src), flags=re.M)
        body = _text(built)
        for ident in idents:
            # each `::: module` directive became rendered objects, not literal text
            assert "::: " + ident not in body, f"{rel}: {ident} not rendered"
            assert f'id="{ident}' in body or f'id="{ident.rsplit(".", 1)[0]}' in body, (
                f"{rel}: no rendered object for {ident}"
            )


def _section(page: str, prefix: str, name: str) -> str:
    start = page.find(f'id="{prefix}.{name}"')
    assert start >= 0, f"{prefix}.{name} not rendered"
    end = page.find(f'id="{prefix}.', start + 1)
    return page[start : end if end > 0 else len(page)]


def _public_functions(source: Path) -> list[tuple[str, list[str]]]:
    """(name, parameter names) of a module's documented public functions, read with ast."""
    tree = ast.parse(source.read_text(encoding="utf-8"))
    out = []
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and not node.name.startswith("_"):
            if ast.get_docstring(node):
                a = node.args
                names = [x.arg for x in (*a.posonlyargs, *a.args, *a.kwonlyargs)]
                names += [x.arg for x in (a.vararg, a.kwarg) if x is not None]
                out.append((node.name, names))
    return out


def test_theory_page_renders_signatures_and_parameters(site):
    prefix = "theorylab.studies.rf_ensembles.theory"
    page = _text(site / "api" / "studies" / "rf_ensembles.html")
    functions = _public_functions(
        ROOT / "src" / "theorylab" / "studies" / "rf_ensembles" / "theory.py"
    )
    assert functions
    for name, params in functions:
        section = _section(page, prefix, name)
        signature = re.search(r'class="doc-signature[^"]*">(.*?)</code>', section, flags=re.S)
        assert signature, f"{name}: no rendered signature"
        sig_text = html.unescape(re.sub(r"<[^>]+>", "", signature.group(1)))
        assert sig_text.lstrip().startswith(f"{name}("), sig_text[:80]
        for p in params:
            assert re.search(rf"\b{re.escape(p)}\b", sig_text), f"{name}: {p} not in signature"
        if params:
            assert "Parameters:" in section, f"{name}: no Parameters section"
            table = section[section.find("Parameters:") :]
            for p in params:
                documented = f"<code>{p}</code>" in table or f"<code>{p}," in table
                assert documented, f"{name}: parameter {p} not in its Parameters table"


def test_cli_reference_is_generated_from_the_app(site):
    import typer

    from theorylab.cli import app

    page = html.unescape(_text(site / "cli.html"))
    commands = typer.main.get_command(app).list_commands(None)
    assert commands
    assert "Usage: theorylab [OPTIONS]" in page
    for name in commands:
        assert f"Usage: theorylab {name}" in page, f"no --help text for `theorylab {name}`"
    assert "<!-- cli-help -->" not in page


def test_site_works_offline_with_local_mathjax(site):
    mathjax = site / "assets" / "mathjax" / "tex-svg-full.js"
    assert mathjax.is_file() and mathjax.stat().st_size > 1_000_000
    for page in [site / "index.html", *sorted(site.glob("*.html"))]:
        text = _text(page)
        assert "assets/mathjax/tex-svg-full.js" in text, page.name
        remote = re.findall(r'<(?:script|link)[^>]+(?:src|href)="(https?://[^"]+)"', text)
        assert not remote, f"{page.name} loads {remote} from the network"


@pytest.mark.browser
def test_site_renders_in_chromium(site):
    """The built site opens from file:// in headless Chromium: pages, navigation, maths."""
    from test_report import _browser

    browser = _browser()
    try:
        browser.set_window_size(1280, 1000)
        browser.get((site / "index.html").resolve().as_uri())
        assert "theorylab" in browser.title
        links = browser.find_elements("css selector", "nav a")
        assert len(links) >= 10
        for page in ("architecture.html", "rf_ensembles.html", "api/index.html"):
            browser.get((site / page).resolve().as_uri())
            assert browser.find_element("tag name", "h1").text.strip()
        loaded = browser.execute_script(
            "return Array.from(document.images).map(i => i.complete && i.naturalWidth > 0)"
        )
        assert all(loaded), loaded
        shot = site.parent / "docs_rf_ensembles.png"
        browser.save_screenshot(str(shot))
        assert shot.stat().st_size > 10_000
    finally:
        browser.quit()
