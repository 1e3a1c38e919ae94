"""`vireid data ...`: check dataset folders, write image indexes, generate synthetic data."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Optional

import typer

from vireid.datasets.synth.config import SynthConfig
from vireid.errors import DatasetError

data_app = typer.Typer(
    name="data",
    help=(
        "Datasets: check a SYSU-MM01 / RegDB / LLCM / custom folder, write its image index (Parquet), "
        "or generate a small synthetic visible-infrared benchmark for CPU demos."
    ),
    no_args_is_help=True,
)

_DATASET_HELP = ("Dataset layout: sysu (SYSU-MM01), regdb (RegDB), llcm (LLCM) or custom "
                 "(your own data: ROOT/index.csv or index.parquet, see the README).")
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
    warnings: dict[str, None] = {}
    for report in reports:
        typer.echo(report.table())
        problems.update(dict.fromkeys(report.problems))
        warnings.update(dict.fromkeys(report.warnings))
    for line in warnings:
        typer.echo(f"warning: {line}", err=True)
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


_SYNTH = SynthConfig()  # the option defaults below are the config's own


@data_app.command("synth")
def synth_command(
    layout: str = typer.Option("sysu", "--layout", help="Folder layout to write: sysu, regdb, llcm or custom (index.csv + images/)."),
    out: Path = typer.Option(..., "--out", help="Output folder (must be empty unless --force)."),
    ids: int = typer.Option(_SYNTH.ids, "--ids", help="Number of identities."),
    images_per_camera: int = typer.Option(_SYNTH.images_per_camera, "--images-per-camera",
                                          help="Images per identity and camera."),
    height: int = typer.Option(_SYNTH.height, "--height", help="Image height in pixels."),
    width: int = typer.Option(_SYNTH.width, "--width", help="Image width in pixels."),
    seed: int = typer.Option(_SYNTH.seed, "--seed", help="Random seed; the same seed gives identical files."),
    test_fraction: float = typer.Option(
        _SYNTH.test_fraction, "--test-fraction",
        help="SYSU and LLCM layouts: share of identities in the test split (default: 95 of 136, "
             "SYSU-MM01's size; the earlier default was 0.33 of 60)."),
    version: int = typer.Option(
        _SYNTH.version, "--benchmark-version",
        help="Benchmark model: 1 = front-on people, exact attribute-list captions (frozen, for "
             "old results); 2 = viewpoints and captions of what each image shows, with noise."),
    views: bool = typer.Option(
        _SYNTH.views, "--views/--no-views",
        help="Version 2: draw each image from a view (front, back, side) that decides which "
             "attributes show; --no-views draws everyone front-on with everything visible."),
    view_bias: float = typer.Option(
        _SYNTH.view_bias, "--view-bias",
        help="Version 2: how strongly each camera prefers its own view (0 = uniform, 1 = only it)."),
    feet_crop_rate: float = typer.Option(
        _SYNTH.feet_crop_rate, "--feet-crop-rate",
        help="Version 2: share of images framed so close that the shoes are out of the picture."),
    caption_omit_rate: float = typer.Option(
        _SYNTH.caption_omit_rate, "--caption-omit-rate",
        help="Version 2: share of the visible attributes a caption leaves out."),
    caption_error_rate: float = typer.Option(
        _SYNTH.caption_error_rate, "--caption-error-rate",
        help="Version 2: share of named attributes (and visible colours) named wrongly."),
    caption_filler_rate: float = typer.Option(
        _SYNTH.caption_filler_rate, "--caption-filler-rate",
        help="Version 2: share of captions that are generic filler ('A person walking.')."),
    caption_view_rate: float = typer.Option(
        _SYNTH.caption_view_rate, "--caption-view-rate",
        help="Version 2: share of captions that say the view ('seen from behind')."),
    ir_color_error_rate: float = typer.Option(
        _SYNTH.ir_color_error_rate, "--ir-color-error-rate",
        help="Share of infrared caption colour slots that name a (wrong) colour."),
    force: bool = typer.Option(False, "--force", help="Replace the files of an earlier benchmark in --out (files of your own there stay)."),
) -> None:
    """Generate a synthetic visible-infrared benchmark with reference captions.

    Colour identifies people only within the visible cameras; silhouette, hair, bag and
    clothing pattern identify them across modalities. Every option is recorded in
    synth.json and in the caption manifest's metadata.
    """
    from vireid.config import from_dict
    from vireid.datasets.synth import generate

    config = from_dict(SynthConfig, {
        "ids": ids, "images_per_camera": images_per_camera, "height": height, "width": width,
        "seed": seed, "ir_color_error_rate": ir_color_error_rate, "version": version,
        "test_fraction": test_fraction,
        "views": views, "view_bias": view_bias, "feet_crop_rate": feet_crop_rate,
        "caption_omit_rate": caption_omit_rate, "caption_error_rate": caption_error_rate,
        "caption_filler_rate": caption_filler_rate, "caption_view_rate": caption_view_rate})
    start = time.perf_counter()
    generate(out, layout, config, force=force)
    n = sum(1 for p in out.rglob("*.jpg"))
    typer.echo(f"wrote {n} images + reference_captions.parquet to {out} "
               f"in {time.perf_counter() - start:.1f}s (benchmark version {config.version})")


def register(app: typer.Typer) -> None:
    """Add the `data` command group to the vireid CLI."""
    app.add_typer(data_app, name="data")
