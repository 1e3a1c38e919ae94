"""The ``vireid`` command: one sub-command group per pipeline stage."""

from __future__ import annotations

import os
import signal
import sys

from typing import Any

import typer

from vireid import __version__
from vireid.errors import Terminated, VireidError, resume_hint, storage_error

app = typer.Typer(
    name="vireid",
    help=(
        "Caption-driven visible-infrared person re-identification.\n\n"
        "Stages: `data` (dataset layouts, checks, synthetic benchmark), `captions` (LLaVA "
        "captions into Parquet manifests), `methods` (the registered methods), `pretrain` (the "
        "tiny CLIP prior), `train` (a method "
        "on CLIP RN50), `eval` "
        "(SYSU-MM01 / RegDB / LLCM protocols), `pipeline` (cached end-to-end runs), `report` "
        "(one self-contained HTML page per run or comparison), and for a trained model on your "
        "own images: `embed`, `search` (exact or FAISS) and `export` (ONNX / TorchScript)."
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        import platform

        from vireid.fingerprint import library_versions

        # The versions a bug report needs: the same set every results.json records.
        installed = ", ".join(f"{name} {v or 'not installed'}" for name, v in library_versions().items())
        typer.echo(f"vireid {__version__} (Python {platform.python_version()}; {installed})")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                 help="Print the version of vireid and of its main libraries, and exit."),
) -> None:
    """Caption-driven visible-infrared person re-identification."""


def _register_stages() -> None:
    # Each stage package owns its commands; importing them here keeps the CLI the only place
    # that knows every stage.
    from vireid.captioning.cli import register as register_captions
    from vireid.datasets.cli import register as register_data
    from vireid.evaluation.cli import register as register_eval
    from vireid.inference.cli import register as register_inference
    from vireid.methods.cli import register as register_methods
    from vireid.pipeline.cli import register as register_pipeline
    from vireid.pretraining.cli import register as register_pretrain
    from vireid.report.cli import register as register_report
    from vireid.reproduce.cli import register as register_reproduce
    from vireid.training.cli import register as register_train

    for register in (register_data, register_captions, register_methods, register_pretrain, register_train,
                     register_eval, register_inference, register_pipeline, register_reproduce,
                     register_report):
        register(app)


_register_stages()


def _echo_error(exc: VireidError) -> None:
    for line in str(exc).splitlines() or [type(exc).__name__]:
        typer.echo(f"error: {line}", err=True)


def _interrupted(exc: BaseException | None) -> KeyboardInterrupt | None:
    # typer turns Ctrl-C into a silent exit 130 (KeyboardInterrupt -> Exit -> SystemExit); the
    # KeyboardInterrupt survives in the exception chain.
    seen = set()
    while exc is not None and id(exc) not in seen:
        if isinstance(exc, KeyboardInterrupt):
            return exc
        seen.add(id(exc))
        exc = exc.__cause__ or exc.__context__
    return None


def command() -> Any:
    """The click command tree of ``app``, with on/off flags shown without a ``<bool>`` type
    (a flag takes no value; typer's help would suggest ``--force <bool>``)."""
    root = typer.main.get_command(app)
    stack = [root]
    while stack:
        cmd = stack.pop()
        for param in cmd.params:
            if getattr(param, "is_flag", False) and getattr(param, "metavar", "") is None:
                param.metavar = ""
        cmd.get_help_option = _plain_help(cmd.get_help_option)
        stack.extend(getattr(cmd, "commands", {}).values())
    return root


def _plain_help(make: Any) -> Any:
    def help_option(ctx: Any) -> Any:  # --help is made on demand: make it a plain flag too
        option = make(ctx)
        if option is not None and getattr(option, "metavar", "") is None:
            option.metavar = ""
        return option

    return help_option


def _report_interrupt(exc: BaseException | None) -> int:
    """Print the interrupt line (with the resume hint); the exit code: 143 for SIGTERM, else 130."""
    hint = resume_hint()
    what = "terminated (SIGTERM)" if isinstance(exc, Terminated) else "interrupted"
    typer.echo(f"{what}; {hint}" if hint else what, err=True)
    return 143 if isinstance(exc, Terminated) else 130


def _on_sigterm(signum, frame) -> None:
    raise Terminated()


def main() -> None:
    """Console entry point: user errors become one line on stderr and exit code 2.

    A full disk or a read-only folder (OSError ENOSPC/EROFS/EACCES/EDQUOT escaping any stage)
    is one line naming the path; Ctrl-C prints ``interrupted`` plus the resume hint the
    running stage set (:func:`vireid.errors.set_resume_hint`) and exits with 130; SIGTERM
    does the same (``terminated (SIGTERM); ...``) and exits with 143.
    """
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    # A scheduler's SIGTERM unwinds like Ctrl-C: lock released, resume line, exit 143.
    previous_sigterm = signal.signal(signal.SIGTERM, _on_sigterm)
    if not sys.stderr.isatty():
        # In log files a progress bar is hundreds of carriage-return lines: libraries' bars
        # (tqdm, transformers, huggingface_hub) go quiet; vireid's own long steps print a
        # periodic plain line instead (vireid.progress).
        os.environ.setdefault("TQDM_DISABLE", "1")
        os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    try:
        command()()
    except VireidError as exc:
        _echo_error(exc)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt as exc:
        sys.exit(_report_interrupt(exc))
    except SystemExit as exc:
        interrupt = _interrupted(exc) if exc.code == 130 else None
        if interrupt is not None:
            sys.exit(_report_interrupt(interrupt))
        raise
    except OSError as exc:
        translated = storage_error(exc, writing=False)
        if translated is None:
            raise
        _echo_error(translated)
        sys.exit(translated.exit_code)
    finally:  # called in-process (tests, notebooks): leave the caller's SIGTERM handling as it was
        signal.signal(signal.SIGTERM, previous_sigterm)


if __name__ == "__main__":
    main()
