"""``vireid report``: one self-contained HTML page of runs, a demo or reproduce folder."""

from __future__ import annotations

from pathlib import Path

import typer

HELP = """Write one self-contained HTML page (figures embedded, no network, opens from disk) about trained runs.

Give a run folder (`vireid train --out`, or a method folder of a pipeline run such as runs/demo/eees), a folder of runs (runs/demo, a `vireid reproduce --out` folder) or several of them.

Each run gets its provenance card (method, variant, recipe, dataset, seed, selection, checkpoint, versions, input fingerprints), the protocol table (mean ± std over trials, chance level beside, any extra result rows such as re-ranked ones), CMC curves, loss and per-term gradient-norm curves, per-camera-pair and per-direction numbers, the hardest queries as ranked lists with captions and activation maps, and a PCA projection of the test features. Several runs add a comparison: differences to --reference (default: the first row), marked where they exceed twice the combined seed std, overlaid CMC and loss curves, and the config keys that differ.

A run with missing pieces (never evaluated, killed midway, no captions) still gets a page that says what is missing.
"""


def report_command(
    paths: list[Path] = typer.Argument(..., help="Run folders or folders of runs."),
    out: Path = typer.Option(None, "--out", "-o",
                             help="HTML file to write (default: report.html in the first folder given)."),
    reference: str = typer.Option(None, "--reference",
                                  help="Row the comparison's differences are taken to (a run folder name, "
                                       "or a reproduce row without -seed<k>) (default: the first)."),
    hardest: int = typer.Option(6, "--hardest", min=0,
                                help="Hardest queries shown as ranked lists with activation maps (0: none)."),
    device: str = typer.Option("cpu", "--device", help="Device for the activation maps: cpu | cuda."),
) -> None:
    from vireid.report.build import write_report

    target = out or Path(paths[0]) / "report.html"
    written = write_report(list(paths), target, reference=reference, hardest=hardest, device=device,
                           echo=typer.echo)
    typer.echo(f"wrote {written}")


def register(app: typer.Typer) -> None:
    """Add ``vireid report`` to the root CLI."""
    app.command("report", help=HELP, no_args_is_help=True)(report_command)
