"""HTML report over a directory of study outputs.

``build_report(DIR)`` reads every ``DIR/<study>/summary.json`` and writes
``DIR/index.html``: a summary table that is also the table of contents
(study, passed, checks passed / total, runtime) and one folding section per
study with its figures (at readable size, captioned, click to open full size),
its checks table, its config and timings, and a link back to the top.  The
page is static (no scripts, no network) and refers to the figures by relative
paths, so the folder can be zipped and mailed.
"""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

from .results import SUMMARY, atomic_write_text

INDEX = "index.html"

_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;
margin:2rem auto;max-width:1200px;color:#222;padding:0 1rem}
h1{font-size:1.6rem}h2{margin-top:2.5rem;border-bottom:1px solid #ddd;padding-bottom:.3rem}
table{border-collapse:collapse;margin:.8rem 0;font-size:.9rem}
th,td{border:1px solid #ddd;padding:.25rem .6rem;text-align:left;vertical-align:top}
th{background:#f5f5f5}.pass{color:#137333;font-weight:600}.fail{color:#c5221f;font-weight:600}
.figs{display:flex;flex-wrap:wrap;gap:1.2rem}
.figs figure{margin:0;flex:0 1 560px;max-width:100%}.figs figure.wide{flex-basis:100%}
.figs img{width:100%;height:auto;border:1px solid #eee;cursor:zoom-in}
.figs figcaption{font-size:.85rem;color:#444;margin-top:.2rem}
details{margin:.6rem 0}code,pre{font-size:.8rem}
details.study>summary{list-style:none;cursor:pointer}
details.study>summary h2{display:inline-block}
details.study>summary::before{content:"\25B8  ";color:#888;font-size:1.2rem}
details.study[open]>summary::before{content:"\25BE  "}
.top{font-size:.85rem}
td.num{text-align:right;font-variant-numeric:tabular-nums}
.meta{color:#555;font-size:.9rem}
"""


def _esc(x: Any) -> str:
    return html.escape(str(x), quote=True)


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.4g}"
    return str(v)


def _badge(passed: bool) -> str:
    return '<span class="pass">PASS</span>' if passed else '<span class="fail">FAIL</span>'


def load_summaries(root: str | Path) -> list[dict[str, Any]]:
    """Summaries of every study run directly under ``root`` (sorted by study id).

    Unreadable summaries are returned as ``{"study": name, "error": message}``.
    """
    out = []
    for path in sorted(Path(root).glob(f"*/{SUMMARY}")):
        try:
            out.append(json.loads(path.read_text()))
        except (OSError, ValueError) as exc:
            out.append({"study": path.parent.name, "error": f"unreadable summary: {exc}"})
    return out


def _summary_row(s: dict[str, Any]) -> str:
    sid = _esc(s["study"])
    if "error" in s:
        return (
            f'<tr><td><a href="#{sid}">{sid}</a></td>'
            f'<td colspan="4" class="fail">{_esc(s["error"])}</td></tr>'
        )
    checks = s.get("checks", [])
    n_pass = sum(bool(c["passed"]) for c in checks)
    return (
        f'<tr><td><a href="#{sid}">{sid}</a></td><td>{_esc(s.get("title", ""))}</td>'
        f"<td>{_badge(s.get('passed', False))}</td>"
        f'<td class="num">{n_pass} / {len(checks)}</td>'
        f'<td class="num">{s.get("timings_s", {}).get("total", float("nan")):.1f}</td></tr>'
    )


def _png_size(path: Path) -> tuple[int, int] | None:
    """Width and height of a PNG from its header (None when unreadable)."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(24)
    except OSError:
        return None
    if len(head) < 24 or head[:8] != b"\x89PNG\r\n\x1a\n":
        return None
    return int.from_bytes(head[16:20], "big"), int.from_bytes(head[20:24], "big")


def _section(s: dict[str, Any], root: Path) -> str:
    sid = _esc(s["study"])
    top = '<p class="top"><a href="#top">back to the top</a></p>'
    if "error" in s:
        return (
            f'<section id="{sid}"><h2>{sid}</h2><p class="fail">{_esc(s["error"])}</p>'
            f"{top}</section>"
        )
    paper = s.get("paper", {})
    parts = [
        f'<section id="{sid}"><details class="study" open><summary>'
        f"<h2>{sid} {_badge(s.get('passed', False))}</h2></summary>"
    ]
    parts.append(
        f'<p class="meta">{_esc(s.get("title", ""))}<br>'
        f'Paper: <a href="{_esc(paper.get("url", ""))}">'
        f"{_esc(paper.get('title', ''))}</a> ({_esc(paper.get('authors', ''))}"
        f"{', ' + _esc(paper.get('venue')) if paper.get('venue') else ''}; arXiv "
        f"{_esc(paper.get('arxiv', ''))})<br>preset <b>{_esc(s.get('preset', ''))}</b>, "
        f"seeds {_esc(s.get('seeds', []))}</p>"
    )
    figs = s.get("figures", [])
    captions = s.get("figure_captions", {})
    if figs:
        parts.append('<div class="figs">')
        for f in figs:
            src = f"{sid}/{_esc(f)}"
            stem = Path(f).stem
            size = _png_size(root / s["study"] / f)
            wide = size is not None and size[0] > 1.8 * size[1]  # multi-panel: full width
            text = captions.get(stem) or stem.replace("_", " ")
            limit = f' style="max-width:{size[0]}px"' if size else ""  # never upscaled
            cap = f"<b>{_esc(stem)}</b>: {_esc(text)}" if captions.get(stem) else _esc(text)
            parts.append(
                f'<figure{" class=wide" if wide else ""}><a href="{src}" target="_blank">'
                f'<img src="{src}" alt="{_esc(text)}"{limit}></a>'
                f"<figcaption>{cap}</figcaption></figure>"
            )
        parts.append("</div>")
    parts.append(
        f'<table class="checks" data-study="{sid}"><thead><tr><th>experiment</th>'
        "<th>check</th><th>kind</th>"
        "<th>value</th><th>op</th><th>threshold</th><th>pass</th><th>detail</th></tr></thead><tbody>"
    )
    for c in s.get("checks", []):
        parts.append(
            f"<tr><td>{_esc(c.get('experiment', ''))}</td>"
            f"<td>{_esc(c['name'])}</td><td>{_esc(c['kind'])}</td>"
            f'<td class="num">{_esc(_fmt(c["value"]))}</td><td>{_esc(c["op"])}</td>'
            f'<td class="num">{_esc(_fmt(c["threshold"]))}</td><td>{_badge(c["passed"])}</td>'
            f"<td>{_esc(c.get('detail', ''))}</td></tr>"
        )
    parts.append("</tbody></table>")
    t = s.get("timings_s", {})
    parts.append(
        '<p class="meta">Timings: '
        + ", ".join(f"{_esc(k)} {float(v):.2f} s" for k, v in t.items() if not isinstance(v, dict))
        + "</p>"
    )
    per = t.get("experiments", {})
    if per:
        parts.append(
            '<p class="meta">Per experiment (theory / summed simulation tasks): '
            + ", ".join(
                f"{_esc(name)} {float(v.get('theory', 0)):.2f} / "
                f"{float(v.get('simulate', 0)):.2f} s"
                for name, v in per.items()
            )
            + "</p>"
        )
    parts.append("<details><summary>Configuration</summary><table>")
    for k, v in s.get("config", {}).items():
        parts.append(f"<tr><td><code>{_esc(k)}</code></td><td><code>{_esc(v)}</code></td></tr>")
    parts.append("</table></details>")
    parts.append(
        "<details><summary>Versions</summary><pre>"
        + _esc(json.dumps(s.get("versions", {}), indent=1))
        + f"</pre></details></details>{top}</section>"
    )
    return "\n".join(parts)


def build_report(root: str | Path, title: str = "theorylab report") -> Path:
    """Write ``root/index.html`` from the study summaries under ``root``.

    Parameters
    ----------
    root : path
        A directory holding ``<study>/summary.json`` folders (the ``--out`` of
        ``theorylab run`` / ``reproduce``).
    title : str
        Page title.

    Returns
    -------
    pathlib.Path
        The written index.
    """
    root = Path(root)
    summaries = load_summaries(root)
    n_ok = sum(bool(s.get("passed")) for s in summaries)
    rows = "\n".join(_summary_row(s) for s in summaries)
    body = "\n".join(_section(s, root) for s in summaries)
    page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{_esc(title)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>{_CSS}</style></head>
<body>
<h1 id="top">{_esc(title)}</h1>
<p class="meta">{n_ok} of {len(summaries)} studies passed every check.
Lines in figures are theory, markers are simulation means with standard-error bars.</p>
<table class="summary"><thead><tr><th>study</th><th>title</th><th>passed</th>
<th>checks passed</th><th>runtime (s)</th></tr></thead><tbody>
{rows}
</tbody></table>
{body}
</body></html>
"""
    return atomic_write_text(root / INDEX, page)
