"""``vireid report``: self-contained HTML pages of runs, demo/reproduce folders and comparisons."""

from vireid.report.build import build_html, write_report
from vireid.report.inputs import ReportError, collect, load_run

__all__ = ["ReportError", "build_html", "collect", "load_run", "write_report"]
