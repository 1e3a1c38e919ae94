"""The ``vireid`` command: one sub-command group per pipeline stage."""

from __future__ import annotations

import os
import sys

import typer

from vireid import __version__
from vireid.errors import VireidError

app = typer.Typer(
    name="vireid",
    help=(
        "Caption-driven visible-infrared person re-identification.\n\n"
        "Stages: `data` (dataset layouts, checks, synthetic benchmark), `captions` (LLaVA "
        "captions into Parquet manifests), `train` (EEES on CLIP RN50), `eval` "
        "(SYSU-MM01 / RegDB / LLCM protocols) and `pipeline` (cached end-to-end runs)."
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"vireid {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                 help="Print the version and exit."),
) -> None:
    """Caption-driven visible-infrared person re-identification."""


def _register_stages() -> None:
    # Each stage package owns its commands; importing them here keeps the CLI the only place
    # that knows every stage.
    from vireid.captioning.cli import register as register_captions
    from vireid.datasets.cli import register as register_data
    from vireid.evaluation.cli import register as register_eval
    from vireid.pipeline.cli import register as register_pipeline
    from vireid.training.cli import register as register_train

    for register in (register_data, register_captions, register_train, register_eval,
                     register_pipeline):
        register(app)


_register_stages()


def main() -> None:
    """Console entry point: user errors become one line on stderr and exit code 2."""
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    try:
        app()
    except VireidError as exc:
        for line in str(exc).splitlines() or [type(exc).__name__]:
            typer.echo(f"error: {line}", err=True)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        typer.echo("interrupted", err=True)
        sys.exit(130)


if __name__ == "__main__":
    main()
