"""`vireid data ...`: check dataset folders, write image indexes, generate synthetic data."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Optional

import typer

from vireid.errors import DatasetError

data_app = typer.Typer(
    name="data",
    help=(
        "Datasets: check a SYSU-MM01 / RegDB / LLCM folder, write its image index (Parquet), "
        "or generate a small synthetic visible-infrared benchmark for CPU demos."
    ),
    no_args_is_help=True,
)

_DATASET_HELP = "Dataset layout: sysu (SYSU-MM01), regdb (RegDB) or llcm (LLCM)."
_TRIAL_HELP = "RegDB trial 1..10 (required for regdb; each trial is its own train/test split)."
_CHECK_TRIAL_HELP = "RegDB trial 1..10 to check (default: all ten)."


@data_app.command("check")
def check_command(
    dataset: str = typer.Option(..., "--dataset", help=_DATASET_HELP),
    root: Path = typer.Option(..., "--root", help="The dataset's root folder."),
    trial: Optional[int] = typer.Option(None, "--trial", help=_CHECK_TRIAL_HELP),
    decode: bool = typer.Option(True, "--decode/--no-decode",
                                help="Decode every image (finds corrupt files; slower)."),
) -> None:
    """Check a dataset folder: counts per split/modality/camera, then every problem found.

    Each problem is one `error: <path>: <what>` line; the exit status is non-zero if any.
    """
    from vireid.datasets.check import check_dataset_trials

    reports = check_dataset_trials(dataset, root, trial, decode=decode)
    problems: dict[str, None] = {}  # a missing folder is every trial's problem: say it once
    for report in reports:
        typer.echo(report.table())
        problems.update(dict.fromkeys(report.problems))
    if problems:
        raise DatasetError(list(problems))


@data_app.command("index")
def index_command(
    dataset: str = typer.Option(..., "--dataset", help=_DATASET_HELP),
    root: Path = typer.Option(..., "--root", help="The dataset's root folder."),
    out: Path = typer.Option(..., "--out", help="Where to write the image index (.parquet)."),
    trial: Optional[int] = typer.Option(None, "--trial", help=_TRIAL_HELP),
    val_ids: Optional[int] = typer.Option(
        None, "--val-ids",
        help="Training identities held out as split=val for model selection "
             "(default: about 5%, at least 1 when there are 10 or more; 0 disables)."),
    seed: int = typer.Option(0, "--seed", help="Seed of the held-out identity draw."),
) -> None:
    """Write the image index of a dataset (one row per image) as a Parquet manifest."""
    from vireid.datasets.index import build_index, index_metadata
    from vireid.manifests import write_manifest

    table = build_index(dataset, root, trial=trial, val_ids=val_ids, seed=seed)
    meta = index_metadata(table, dataset=dataset, root=root, trial=trial, val_ids=val_ids, seed=seed)
    write_manifest(table, out, "image-index", metadata=meta)
    splits = table.column("split").to_pylist()
    counts = ", ".join(f"{s}={splits.count(s)}" for s in ("train", "val", "test"))
    typer.echo(f"wrote {out}: {table.num_rows} images ({counts})")


@data_app.command("synth")
def synth_command(
    layout: str = typer.Option("sysu", "--layout", help="Folder layout to imitate: sysu, regdb or llcm."),
    out: Path = typer.Option(..., "--out", help="Output folder (must be empty unless --force)."),
    ids: int = typer.Option(60, "--ids", help="Number of identities."),
    images_per_camera: int = typer.Option(6, "--images-per-camera", help="Images per identity and camera."),
    height: int = typer.Option(128, "--height", help="Image height in pixels."),
    width: int = typer.Option(64, "--width", help="Image width in pixels."),
    seed: int = typer.Option(0, "--seed", help="Random seed; the same seed gives identical files."),
    ir_color_error_rate: float = typer.Option(
        0.3, "--ir-color-error-rate",
        help="Share of infrared caption colour slots that name a (wrong) colour."),
    force: bool = typer.Option(False, "--force", help="Write into a non-empty output folder."),
) -> None:
    """Generate a synthetic visible-infrared benchmark with reference captions.

    Colour identifies people only within the visible cameras; silhouette, hair, bag and
    clothing pattern identify them across modalities.
    """
    from vireid.config import from_dict
    from vireid.datasets.synth import SynthConfig, generate

    config = from_dict(SynthConfig, {
        "ids": ids, "images_per_camera": images_per_camera, "height": height, "width": width,
        "seed": seed, "ir_color_error_rate": ir_color_error_rate})
    start = time.perf_counter()
    generate(out, layout, config, force=force)
    n = sum(1 for p in out.rglob("*.jpg"))
    typer.echo(f"wrote {n} images + reference_captions.parquet to {out} "
               f"in {time.perf_counter() - start:.1f}s")


def register(app: typer.Typer) -> None:
    """Add the `data` command group to the vireid CLI."""
    app.add_typer(data_app, name="data")
