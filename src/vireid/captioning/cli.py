"""``vireid captions``: caption a dataset, merge part files, write a tiny test model."""

from __future__ import annotations

from pathlib import Path

import typer

from vireid.captioning.config import DEFAULT_MAX_NEW_TOKENS, DEFAULT_MODEL, CaptionConfig
from vireid.captioning.prompts import DEFAULT_INSTRUCTION
from vireid.errors import ConfigError, VireidError, set_resume_hint

HELP = (
    "Caption pedestrian images with LLaVA into a Parquet caption manifest.\n\n"
    "`vireid captions --dataset sysu --root DIR --out OUT` captions the training images "
    "(splits train,val by default: only training images need captions) into "
    "OUT/captions.parquet plus OUT/captions.summary.json. Results are saved every few "
    "batches under OUT/parts/, so a killed run resumes where it stopped; a finished manifest "
    "with unchanged inputs is not recomputed (--force to redo). Parts are deleted once the "
    "manifest is complete. Shards (--num-shards/--shard-index, or `accelerate launch`) "
    "caption disjoint parts into the same OUT; the last to finish merges."
)

captions_app = typer.Typer(help=HELP, invoke_without_command=True, no_args_is_help=False,
                           add_completion=False, pretty_exceptions_enable=False)


def _splits(text: str) -> tuple[str, ...]:
    return tuple(s.strip() for s in text.split(",") if s.strip())


def _load_index(dataset: str | None, root: Path | None, trial: int | None, index: Path | None):
    from vireid.manifests import read_manifest

    if root is None:
        raise ConfigError("--root: required (the folder the image paths are relative to)")
    if index is not None:
        if dataset is not None:
            raise ConfigError("--index and --dataset: give one of them, not both")
        return read_manifest(index, "image-index")
    if dataset is None:
        raise ConfigError("--dataset or --index: one is required")
    from vireid.datasets import build_index

    return build_index(dataset, root, trial=trial)


@captions_app.callback()
def captions(
    ctx: typer.Context,
    dataset: str = typer.Option(None, "--dataset", help="sysu | regdb | llcm | custom (scanned at --root)."),
    root: Path = typer.Option(None, "--root", help="Dataset root folder."),
    trial: int = typer.Option(None, "--trial", help="RegDB trial 1..10."),
    index: Path = typer.Option(None, "--index", help="An existing image-index Parquet file "
                               "(instead of --dataset); paths are relative to --root."),
    out: Path = typer.Option(None, "--out", help="Output folder (captions.parquet goes here)."),
    model: str = typer.Option(DEFAULT_MODEL, "--model", help="Hub id or local checkpoint folder."),
    batch_size: int = typer.Option(16, "--batch-size", min=1),
    quantization: str = typer.Option("4bit", "--quantization", help="4bit | 8bit | none."),
    dtype: str = typer.Option("auto", "--dtype", help="auto | bf16 | fp16 | fp32 (with "
                              "--quantization none; auto = bf16 on GPU, fp32 on CPU)."),
    device: str = typer.Option(None, "--device", help="cpu, cuda, cuda:1 ... (default: "
                               "accelerate's device for this process)."),
    max_new_tokens: int = typer.Option(DEFAULT_MAX_NEW_TOKENS, "--max-new-tokens", min=1,
                                       help="Caption length limit; CLIP reads 77 tokens."),
    prompt_visible: str = typer.Option(DEFAULT_INSTRUCTION, "--prompt-visible"),
    prompt_infrared: str = typer.Option(DEFAULT_INSTRUCTION, "--prompt-infrared"),
    num_shards: int = typer.Option(None, "--num-shards", help="Split the images into N shards "
                                   "(default: WORLD_SIZE under accelerate launch, else 1)."),
    shard_index: int = typer.Option(None, "--shard-index", help="This process's shard 0..N-1."),
    limit: int = typer.Option(None, "--limit", help="Caption only the first N selected images."),
    splits: str = typer.Option("train,val", "--splits", help="Comma-separated splits to caption."),
    modalities: str = typer.Option("visible,infrared", "--modalities",
                                   help="Comma-separated modalities to caption (e.g. visible for "
                                   "methods that read visible captions only, like clip4vi-reid)."),
    workers: int = typer.Option(2, "--workers", min=0, help="Image-loading worker processes."),
    flush_every: int = typer.Option(8, "--flush-every", min=1,
                                    help="Batches per part file (the most a crash can lose)."),
    force: bool = typer.Option(False, "--force", help="Recompute even if up to date."),
    quiet: bool = typer.Option(False, "--quiet", help="No progress bar."),
) -> None:
    if ctx.invoked_subcommand is not None:
        return
    if out is None:
        raise ConfigError("--out: required (output folder for captions.parquet)")
    from vireid.captioning.runner import run_captioning
    from vireid.captioning.summary import format_summary

    # Finished batches are kept as part files, so a rerun picks up where Ctrl-C stopped.
    set_resume_hint("re-run the same command to resume")

    config = CaptionConfig(
        model=model, quantization=quantization, dtype=dtype, device=device,  # type: ignore[arg-type]
        batch_size=batch_size, max_new_tokens=max_new_tokens, prompt_visible=prompt_visible,
        prompt_infrared=prompt_infrared, workers=workers, splits=_splits(splits), limit=limit,
        modalities=_splits(modalities),
        num_shards=num_shards, shard_index=shard_index, flush_every=flush_every, force=force)
    table = _load_index(dataset, root, trial, index)
    summary = run_captioning(table, root, out, config, log=lambda m: typer.echo(m, err=True),
                             progress=not quiet)
    if summary.get("images") is not None and not summary.get("cached"):
        typer.echo(format_summary(summary))


@captions_app.command("merge")
def merge_cmd(directory: Path = typer.Argument(..., help="A captions output folder.")) -> None:
    """Merge part files into DIR/captions.parquet now (normally automatic at the end)."""
    from vireid.captioning.summary import format_summary, manifest_summary
    from vireid.captioning.writer import merge

    result = merge(directory)
    if result.complete:
        typer.echo(format_summary(manifest_summary(result.path)))
    else:
        typer.echo(f"merged {result.rows} of {result.expected} images into {result.path}; "
                   f"{result.missing} still missing (parts kept; rerun captioning to finish)")


@captions_app.command("tiny-model")
def tiny_model_cmd(out: Path = typer.Option(None, "--out", help="Folder to write the model to."),
                   legacy_out: Path = typer.Argument(None, metavar="[OUT]", show_default=False,
                                                     help="Deprecated: the folder as a positional "
                                                          "argument; use --out."),
                   seed: int = typer.Option(0, "--seed", help="Seed of the random weights."),
                   size: str = typer.Option("tiny", "--size",
                                            help="tiny (CPU, seconds) or llava-1.5-7b (real shapes, "
                                                 "bfloat16 on --device; for GPU throughput tests)."),
                   device: str = typer.Option("cpu", "--device", help="Where the weights are created.")) -> None:
    """Write a random-weight LLaVA (for demos, tests and benchmarks; use it with --model OUT).

    `vireid captions tiny-model --out models/tiny-llava`, then
    `vireid captions --dataset sysu --root DIR --out OUT --model models/tiny-llava --quantization none`.
    Its captions are word salad: it exercises the captioning code path, not caption quality.
    """
    if out is not None and legacy_out is not None and out != legacy_out:
        raise VireidError(f"give the folder once: --out {out} or (deprecated) the positional {legacy_out}")
    if out is None and legacy_out is None:
        raise VireidError("--out is required: the folder to write the model to")
    if out is None:
        typer.echo(f"warning: the positional OUT of `vireid captions tiny-model` is deprecated and will be "
                   f"removed in the next release; use --out {legacy_out}", err=True)
        out = legacy_out
    import torch

    from vireid.captioning.tiny import RANDOM_LLAVA_SIZES, build_random_llava

    if size not in RANDOM_LLAVA_SIZES:
        raise VireidError(f"--size: one of {', '.join(RANDOM_LLAVA_SIZES)}, got {size!r}")
    dtype = torch.bfloat16 if size != "tiny" else None
    typer.echo(str(build_random_llava(out, size, seed=seed, device=device, dtype=dtype)))


def register(app: typer.Typer) -> None:
    """Add the ``captions`` command group to the vireid CLI."""
    app.add_typer(captions_app, name="captions")
