"""``vireid train``: train a preset ``[tiny-]<variant>[-<dataset>]`` of any registered method."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

TRAIN_HELP = (
    "Train CLIP RN50 with a method preset on an image index (+ caption manifests). Presets: "
    "<variant> (paper scale), <variant>-<dataset>, tiny-<variant> (CPU scale); the variants of "
    "every registered method: `vireid methods`; every preset: --list-presets.\n\n"
    "Inputs: --root DIR (the dataset folder; images are read from it) and either --index FILE "
    "or --dataset sysu|regdb|llcm|custom to build the index (RegDB: one model per --trial 1..10). "
    "Variants that read captions (`vireid methods` says which) need --captions FILE (repeatable; "
    "later files win; '--captions reference' = <root>/reference_captions.parquet of a synthetic "
    "dataset).\n\n"
    "Any config value can be changed with --set section.key=value (repeatable), e.g. "
    "--set optim.lr_visual=1e-4 --set augment.erasing=0.5.\n\n"
    "Several GPUs: the same flags under 'accelerate launch --multi_gpu -m vireid train ...' or "
    "'torchrun --nproc_per_node N -m vireid train ...'.\n\n"
    "Outputs in --out: checkpoints/{last,best,epoch_N}.pt, logs/ and config.json. One run owns "
    "the folder at a time; a folder that holds a run is continued with --resume auto or "
    "replaced with --force (the old run's files are deleted only after the new one finished; "
    "files of your own in the folder are never touched)."
)


def _flag_values(**flags: Any) -> dict[str, Any]:
    """Command-line flags as a config dict (only the flags that were given)."""
    where = {
        "index": ("data", "index"), "dataset": ("data", "dataset"), "root": ("data", "root"),
        "trial": ("data", "trial"), "val_ids": ("data", "val_ids"),
        "captions": ("data", "captions"), "missing_captions": ("data", "missing_captions"),
        "cache_dir": ("data", "cache_dir"), "workers": ("data", "workers"),
        "epochs": ("optim", "epochs"), "batch_ids": ("sampler", "batch_ids"),
        "seed": ("run", "seed"), "device": ("run", "device"),
    }
    values: dict[str, Any] = {}
    for name, value in flags.items():
        if value is None or value == []:
            continue
        if isinstance(value, Path):
            value = str(value)
        section, key = where[name]
        values.setdefault(section, {})[key] = value
    return values


def train_command(
    preset: str = typer.Option("eees", "--preset", "-p", help="Method preset (see --list-presets)."),
    config: Path | None = typer.Option(None, "--config", help="A TOML file applied over the preset."),
    root: Path | None = typer.Option(None, "--root", help="Dataset folder (image paths are relative to it)."),
    index: Path | None = typer.Option(None, "--index", help="Image-index manifest (Parquet); the run takes its dataset and trial from it."),
    dataset: str | None = typer.Option(None, "--dataset", help="sysu | regdb | llcm | custom: build the index from --root."),
    trial: int | None = typer.Option(None, "--trial", help="RegDB trial 1..10 (one model per trial)."),
    val_ids: int | None = typer.Option(None, "--val-ids", help="Training ids held out for validation (default ~5%)."),
    captions: list[str] | None = typer.Option(None, "--captions", help="Caption manifest(s); 'reference' for synthetic data."),
    missing_captions: str | None = typer.Option(None, "--missing-captions", help="error (default) | template"),
    out: Path | None = typer.Option(None, "--out", "-o", help="Run directory (default runs/<preset>-<dataset>[-trial<T>])."),
    resume: str | None = typer.Option(None, "--resume", help="Checkpoint to continue, or 'auto' (<out>/checkpoints/last.pt)."),
    force: bool = typer.Option(False, "--force", help="Replace the run already in --out: its files are deleted only after the new run finished (restored if it fails); files of your own in --out stay."),
    epochs: int | None = typer.Option(None, "--epochs", help="Override optim.epochs."),
    batch_ids: int | None = typer.Option(None, "--batch-ids", help="Identities per batch (P)."),
    seed: int | None = typer.Option(None, "--seed", help="Run seed (sampler, augmentation, init)."),
    device: str | None = typer.Option(None, "--device", help="auto | cpu | cuda"),
    workers: int | None = typer.Option(None, "--workers", help="Image decoding / batch loading threads."),
    cache_dir: Path | None = typer.Option(None, "--cache-dir", help="Decoded-image cache folder."),
    overrides: list[str] | None = typer.Option(None, "--set", help="KEY=VALUE config override (repeatable)."),
    list_presets: bool = typer.Option(False, "--list-presets", help="Print the preset names and exit."),
) -> None:
    from vireid.training.config import preset_names, resolve_config

    if list_presets:
        typer.echo("\n".join(preset_names()))
        return
    values = _flag_values(index=index, dataset=dataset, root=root, trial=trial, val_ids=val_ids,
                          captions=captions, missing_captions=missing_captions, cache_dir=cache_dir,
                          workers=workers, epochs=epochs, batch_ids=batch_ids, seed=seed, device=device)
    cfg = resolve_config(preset, config, overrides or [], values)
    if out is None:
        suffix = f"-{cfg.data.dataset}" + (f"-trial{cfg.data.trial}" if cfg.data.trial else "")
        out = Path("runs") / f"{preset}{suffix}"

    from vireid.errors import set_resume_hint
    from vireid.training.engine import train
    from vireid.training.run_dir import resume_command

    set_resume_hint(f"resume with: {resume_command()}")
    try:
        result = train(cfg, out, resume=resume, force=force)
    except KeyboardInterrupt:
        if force:  # the replaced run was restored: there is nothing of this run to resume
            set_resume_hint(f"the previous run in {out} was restored; re-run with --force to replace it")
        raise
    set_resume_hint(None)
    if not result.is_main:
        return
    if result.already_trained is not None:
        typer.echo(f"already trained {result.already_trained} of {cfg.optim.epochs} epochs: {result.run_dir}")
        return
    shown = {k: v for k, v in result.metrics.items() if k in ("loss/total", "val/mAP", "val/R1")}
    typer.echo(f"trained {cfg.preset or cfg.method} for {len(result.history)} epochs -> {result.run_dir}")
    typer.echo("  " + ", ".join(f"{k}={v:.4f}" for k, v in shown.items()))
    typer.echo(f"  last: {result.last}" + (f"\n  best: {result.best}" if result.best else ""))


def register(app: typer.Typer) -> None:
    """Add ``vireid train`` to the root CLI."""
    app.command("train", help=TRAIN_HELP, no_args_is_help=False)(train_command)
