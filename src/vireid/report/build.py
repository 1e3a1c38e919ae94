"""``vireid report``: one self-contained HTML page for a run, a demo/reproduce folder or a
set of runs, written atomically."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from vireid import __version__
from vireid.atomic import write_atomic
from vireid.report import html
from vireid.report.inputs import ReportError, collect


def build_html(paths: list[str | Path], *, reference: str | None = None, hardest: int = 6,
               device: str = "cpu", echo: Callable[[str], None] = lambda line: None) -> str:
    """The page's HTML (see :func:`write_report`); ``echo`` gets one line per run."""
    from vireid.report.compare import comparison_sections
    from vireid.report.run_page import run_sections

    if hardest < 0:
        raise ReportError(f"--hardest: 0 or more, got {hardest}")
    inputs = collect(paths)
    sections = []
    if len(inputs.runs) > 1:
        sections += comparison_sections(inputs.runs, reference, inputs.tables)
    elif reference:
        raise ReportError("--reference needs several runs (or a folder of runs) to compare")
    for i, run in enumerate(inputs.runs):
        echo(f"report: run {i + 1}/{len(inputs.runs)} {run.path}")
        sections += run_sections(run, f"run-{i}", hardest=hardest, device=device)
    title = ("vireid report: " + ", ".join(r.name for r in inputs.runs[:4])
             + (f" and {len(inputs.runs) - 4} more" if len(inputs.runs) > 4 else ""))
    intro = html.note(f"Written by vireid {__version__} at {time.strftime('%Y-%m-%d %H:%M:%S %Z')} from "
                      + ", ".join(str(p) for p in inputs.sources)
                      + ". Self-contained: every figure is embedded; no network needed.")
    return html.page(title, sections, intro)


def write_report(paths: list[str | Path], out: str | Path, *, reference: str | None = None,
                 hardest: int = 6, device: str = "cpu", echo: Callable[[str], None] = lambda line: None) -> Path:
    """Write the report of ``paths`` (run folders or folders of runs) to ``out``; an existing
    file is replaced only once the new page is complete."""
    text = build_html(paths, reference=reference, hardest=hardest, device=device, echo=echo)
    return write_atomic(out, lambda tmp: Path(tmp).write_text(text, encoding="utf-8"))
