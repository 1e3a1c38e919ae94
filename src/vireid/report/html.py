"""Plain-HTML building blocks of the report: escaped text, tables, embedded PNG figures.

Everything the page shows is inside the one file: figures are ``data:image/png;base64``
URIs, the style sheet is inline, and there is no script and no external URL, so the page
opens from disk on a machine without network.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Iterable, Sequence
from html import escape
from typing import Any

STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:1.5em auto;max-width:1200px;
 padding:0 1em;color:#222;line-height:1.4}
h1{font-size:1.6em}h2{border-bottom:2px solid #ddd;padding-bottom:.2em;margin-top:2em}h3{margin-top:1.4em}
table{border-collapse:collapse;margin:.5em 0;font-size:.9em}
th,td{border:1px solid #ccc;padding:.25em .6em;text-align:right;vertical-align:top;white-space:nowrap}
td.l{white-space:normal}
th{background:#f3f3f3}td.l,th.l{text-align:left}
td.mark{background:#ffe1a8;font-weight:bold}
.card{display:grid;grid-template-columns:max-content auto;gap:.15em 1em;font-size:.9em;
 background:#fafafa;border:1px solid #ddd;padding:.6em 1em}
.card dt{font-weight:bold}.card dd{margin:0;word-break:break-all}
.missing{background:#fff4f4;border-left:4px solid #d33;padding:.4em 1em;margin:.6em 0}
.note{color:#555;font-size:.85em}
img{max-width:100%;height:auto;border:1px solid #eee}
nav ul{columns:2}
"""


def text(value: Any) -> str:
    return escape(str(value), quote=True)


def percent(value: float | None, std: float | None = None, digits: int = 2) -> str:
    """A fraction as percent; with ``std`` "mean ± std"."""
    if value is None:
        return "-"
    cell = f"{100 * value:.{digits}f}"
    return cell if std is None else f"{cell} ± {100 * std:.{digits}f}"


def table(head: Sequence[str], rows: Iterable[Sequence[Any]], *, left: int = 1,
          marks: Iterable[tuple[int, int]] = (), caption: str = "") -> str:
    """A table; the first ``left`` columns are left-aligned; ``marks`` are (row, col) cells
    highlighted (cells are escaped, so numbers and names may hold any character)."""
    marked = set(marks)
    out = ["<table>"]
    if caption:
        out.append(f"<caption class=note>{text(caption)}</caption>")
    out.append("<tr>" + "".join(f"<th{' class=l' if i < left else ''}>{text(h)}</th>"
                                for i, h in enumerate(head)) + "</tr>")
    for r, row in enumerate(rows):
        cells = []
        for c, cell in enumerate(row):
            cls = " ".join(k for k, on in (("l", c < left), ("mark", (r, c) in marked)) if on)
            attr = f' class="{cls}"' if cls else ""
            cells.append(f"<td{attr}>{text(cell)}</td>")
        out.append("<tr>" + "".join(cells) + "</tr>")
    out.append("</table>")
    return "\n".join(out)


def card(items: Iterable[tuple[str, Any]]) -> str:
    return "<dl class=card>" + "".join(f"<dt>{text(k)}</dt><dd>{text(v)}</dd>" for k, v in items) + "</dl>"


def missing(lines: Sequence[str]) -> str:
    if not lines:
        return ""
    return ("<div class=missing><strong>Missing from this run:</strong><ul>"
            + "".join(f"<li>{text(line)}</li>" for line in lines) + "</ul></div>")


def note(line: str) -> str:
    return f"<p class=note>{text(line)}</p>"


def png_uri(data: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(data).decode("ascii")


def figure(fig: Any, alt: str, dpi: int = 90) -> str:
    """A matplotlib figure as an embedded PNG ``<img>`` (the figure is closed)."""
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    plt.close(fig)
    return f'<img alt="{text(alt)}" src="{png_uri(buf.getvalue())}">'


def page(title: str, sections: Sequence[tuple[str, str, str]], intro: str = "") -> str:
    """The document: ``sections`` are (anchor, heading, body html)."""
    nav = "".join(f'<li><a href="#{text(a)}">{text(h)}</a></li>' for a, h, _ in sections)
    body = "".join(f'<section id="{text(a)}"><h2>{text(h)}</h2>{b}</section>' for a, h, b in sections)
    return (f"<!DOCTYPE html>\n<html lang=en><head><meta charset=utf-8><title>{text(title)}</title>"
            f"<meta name=viewport content=\"width=device-width, initial-scale=1\">"
            f"<style>{STYLE}</style></head><body><h1>{text(title)}</h1>{intro}"
            f"<nav><ul>{nav}</ul></nav>{body}</body></html>\n")
