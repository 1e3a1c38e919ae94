"""``vireid eval``: protocol-exact evaluation of a checkpoint or of saved features."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from typing import TYPE_CHECKING

from vireid.errors import VireidError
from vireid.evaluation.options import FEATURE_KINDS, FLIP_MODES, INTERPOLATIONS

if TYPE_CHECKING:
    from vireid.evaluation.rerank import RerankOptions
    from vireid.evaluation.store import FeatureTable

# The protocol, store and feature modules are imported inside the command bodies: `vireid
# --help` must not pay for numpy, torch and the image decoders.

DEFAULT_MAX_RANK = 20

HELP = """Evaluate with the exact SYSU-MM01 / RegDB / LLCM protocols, or a custom dataset's index.

Give either --checkpoint (features are extracted once per distinct test image) or --features (a file written by --save-features; no model needed).

Runs every setting (SYSU: all/indoor x single/multi-shot; RegDB: visible->thermal and thermal->visible; LLCM: IR->VIS and VIS->IR) over the gallery trials, prints R1/R5/R10/R20/mAP/mINP in percent (mean ± std over trials) and writes OUT/results.json (every number per trial, checkpoint sha256, provenance) and OUT/cmc.png.

RegDB is evaluated one model per trial: pass --trial T with the model trained on trial T.

--rerank adds k-reciprocal re-ranked results (Zhong et al., CVPR 2017; k1=20, k2=6, lambda=0.3 unless --rerank-k1/-k2/-lambda say otherwise) next to the plain ones, in the table (rows "... re-ranked") and in results.json; each dataset's gallery rule is applied after re-ranking.
"""


def _flip_arg(flip: str | None, no_flip: bool) -> str:
    """``--flip MODE`` (default mean); the older ``--no-flip`` still means ``--flip none``."""
    if no_flip and flip not in (None, "none"):
        raise VireidError(f"--no-flip contradicts --flip {flip}")
    mode = "none" if no_flip else (flip or "mean").lower()
    if mode not in FLIP_MODES:
        raise VireidError(f"--flip must be one of {', '.join(FLIP_MODES)}, got {flip!r}")
    return mode


def _check_args(dataset: str, checkpoint: Path | None, features: Path | None, trial: int | None,
                feature: str, save: Path | None, interpolation: str = "bicubic") -> None:
    from vireid.datasets.registry import DATASETS

    if dataset not in DATASETS:
        raise VireidError(f"--dataset must be one of {', '.join(DATASETS)}, got {dataset!r}")
    if (checkpoint is None) == (features is None):
        raise VireidError("give exactly one of --checkpoint FILE or --features FILE")
    if dataset == "regdb" and trial is None:
        raise VireidError("--trial is required for regdb (1..10): RegDB tests trial T's model on trial T")
    if dataset != "regdb" and trial is not None:
        raise VireidError(f"--trial is only for regdb; {dataset} galleries use --trials")
    if feature not in FEATURE_KINDS:
        raise VireidError(f"--feature must be one of {', '.join(FEATURE_KINDS)}, got {feature!r}")
    if save is not None and features is not None:
        raise VireidError("--save-features needs --checkpoint (the features given are already saved)")
    if interpolation not in INTERPOLATIONS:
        raise VireidError(f"--interpolation must be one of {', '.join(INTERPOLATIONS)}, got {interpolation!r}")


def _rerank_options(rerank: bool, k1: int, k2: int, lam: float) -> RerankOptions | None:
    """The re-ranking options, checked before any feature is extracted; None without --rerank."""
    from vireid.evaluation.rerank import RerankOptions

    options = RerankOptions(k1, k2, lam)
    if not rerank:
        if options != RerankOptions():
            raise VireidError("--rerank-k1/--rerank-k2/--rerank-lambda need --rerank")
        return None
    return options


def _check_paths(save: Path | None, out: Path) -> None:
    """Output paths that cannot be written fail before any feature is extracted."""
    if save is not None and save.is_dir():
        raise VireidError(f"{save}: --save-features is a folder; give a file name, e.g. {save / 'features.npz'}")
    if out.exists() and not out.is_dir():
        raise VireidError(f"{out}: --out is a file; give a folder (results.json and cmc.png go into it)")
    for parent in [out, *out.parents, *((save.parent, *save.parent.parents) if save is not None else ())]:
        if parent.exists() and not parent.is_dir():
            raise VireidError(f"{parent}: not a folder (on the way to an output path)")


def default_out(dataset: str, trial: int | None, source: Path) -> Path:
    """``runs/eval/<dataset>[-trial<T>]/<run>-<checkpoint>``: one folder per evaluated model, so
    evaluating a second checkpoint never replaces the first one's results."""
    name = (f"{source.parent.parent.name}-{source.stem}" if source.parent.name == "checkpoints"
            and source.parent.parent.name else source.stem)
    return Path("runs") / "eval" / (dataset if trial is None else f"{dataset}-trial{trial}") / name


def _check_same_source(out: Path, source: Path) -> None:
    """A default output folder holding another model's results is never overwritten."""
    try:
        saved = json.loads((out / "results.json").read_text())
    except (OSError, ValueError):
        return
    was = (saved.get("checkpoint") or saved.get("features_file")) if isinstance(saved, dict) else None
    if was and Path(was).resolve() != source.resolve():
        raise VireidError(f"{out}: holds the results of {was}; give --out DIR to evaluate {source} "
                          f"without replacing them")


def _capped_max_rank(max_rank: int, dataset: str, root: Path, trials: int, trial: int | None) -> int:
    """``max_rank`` capped at the smallest gallery: ranks past it do not exist."""
    from vireid.evaluation.runner import plan

    smallest = min((len(gallery) for *_, gallery in plan(dataset, root, trials, trial)), default=max_rank)
    if 0 < smallest < max_rank:
        if max_rank != DEFAULT_MAX_RANK:  # the default is capped silently (small test galleries)
            typer.echo(f"note: --max-rank {max_rank} is more than the smallest gallery ({smallest} images); "
                       f"capped at {smallest}", err=True)
        return smallest
    return max_rank


def _table_from_checkpoint(checkpoint: Path, dataset: str, root: Path, *, trials: int, trial: int | None,
                           options, batch_size: int, workers: int, device: str,
                           allow_other_trial: bool = False) -> FeatureTable:
    # Imported here: torch-heavy, and only needed when a model is evaluated.
    from vireid.evaluation.checkpoint import checkpoint_features

    return checkpoint_features(checkpoint, dataset, root, trials=trials, regdb_trial=trial, options=options,
                               batch_size=batch_size, num_workers=workers, device=device,
                               allow_other_trial=allow_other_trial)


def _load_table(features: Path, dataset: str) -> FeatureTable:
    from vireid.evaluation.store import load_features

    table = load_features(features)
    saved = table.meta.get("dataset")
    if saved is not None and saved != dataset:
        raise VireidError(f"{features}: features were saved for dataset {saved!r}, not {dataset!r}")
    table.meta["source"] = str(features)
    return table


def eval_command(
    dataset: str = typer.Option(..., "--dataset", help="sysu | regdb | llcm | custom"),
    root: Path = typer.Option(..., "--root", help="Dataset root folder (its file lists define the protocol)."),
    checkpoint: Path = typer.Option(None, "--checkpoint", help="Trained vireid checkpoint (.pt)."),
    features: Path = typer.Option(None, "--features", help="Saved features (.npz from --save-features) instead of a model."),
    trial: int = typer.Option(None, "--trial", help="RegDB only (required): the trial 1..10 the model was trained on."),
    feature: str = typer.Option("concat", "--feature", help="pooled | bn | proj | concat (= cat(L2(bn), L2(proj)))."),
    flip: str = typer.Option(None, "--flip", help="Horizontal-flip test-time augmentation: none | mean (average of the image's and its mirror's feature) | concat (the two L2-normalised features side by side, CSDN's test feature; twice the dimension). Default: mean."),
    no_flip: bool = typer.Option(False, "--no-flip", hidden=True, help="Same as --flip none."),
    interpolation: str = typer.Option("bicubic", "--interpolation", help="Resizing of test images: bicubic (CLIP's) | bilinear (torchvision's default, as CSDN tests)."),
    batch_size: int = typer.Option(64, "--batch-size", min=1, help="Images per forward pass."),
    workers: int = typer.Option(2, "--workers", min=0, help="DataLoader worker processes decoding images."),
    device: str = typer.Option("cpu", "--device", help="torch device for the model, e.g. cpu or cuda:0."),
    trials: int = typer.Option(10, "--trials", min=1, max=10, help="Gallery trials for SYSU/LLCM (0..N-1)."),
    out: Path = typer.Option(None, "--out", help="Output folder (default: runs/eval/<dataset>[-trial<T>]/<run>-<checkpoint name>, one per model)."),
    ranked_list: int = typer.Option(0, "--ranked-list", min=0, help="Also draw N queries with their top-10 (ranked_list.png)."),
    save_features: Path = typer.Option(None, "--save-features", help="Write the extracted features (.npz) for --features."),
    max_rank: int = typer.Option(DEFAULT_MAX_RANK, "--max-rank", min=1, help="Longest CMC rank reported (capped at the gallery size)."),
    rerank: bool = typer.Option(False, "--rerank", help="Also report k-reciprocal re-ranked results (labelled 're-ranked')."),
    rerank_k1: int = typer.Option(20, "--rerank-k1", help="Re-ranking k1 (k-reciprocal neighbourhood size)."),
    rerank_k2: int = typer.Option(6, "--rerank-k2", help="Re-ranking k2 (local query expansion; 1 = none)."),
    rerank_lambda: float = typer.Option(0.3, "--rerank-lambda", help="Re-ranking lambda: weight of the original distance (0..1)."),
    allow_other_trial: bool = typer.Option(False, "--allow-other-trial", help="RegDB: evaluate a model trained on another trial anyway (its training identities are in this trial's test set; a warning is printed)."),
) -> None:
    from vireid.evaluation.outputs import evaluate_table
    from vireid.evaluation.store import save_features as write_features

    dataset = dataset.lower()
    flip_mode = _flip_arg(flip, no_flip)
    interpolation = interpolation.lower()
    _check_args(dataset, checkpoint, features, trial, feature, save_features, interpolation)
    rerank_options = _rerank_options(rerank, rerank_k1, rerank_k2, rerank_lambda)
    if checkpoint is not None:
        from vireid.device import resolve_device

        device = resolve_device(device)  # before any work: a missing GPU is one line
    if not root.is_dir():
        raise VireidError(f"{root}: dataset root not found")
    if out is None:
        out = default_out(dataset, trial, checkpoint or features)
        _check_same_source(out, checkpoint or features)
    _check_paths(save_features, out)
    max_rank = _capped_max_rank(max_rank, dataset, root, trials, trial)
    from vireid.evaluation.features import FeatureOptions

    options = FeatureOptions(feature=feature, flip=flip_mode, interpolation=interpolation)
    if checkpoint is not None:
        table = _table_from_checkpoint(checkpoint, dataset, root, trials=trials, trial=trial, options=options,
                                       batch_size=batch_size, workers=workers, device=device,
                                       allow_other_trial=allow_other_trial)
        if save_features is not None:
            typer.echo(f"features -> {write_features(save_features, table)}")
    else:
        table = _load_table(features, dataset)

    report = evaluate_table(table, dataset, root, out, trials=trials, regdb_trial=trial,
                            max_rank=max_rank, ranked_list=ranked_list,
                            features_file=features or save_features, options=options,
                            rerank=rerank_options)
    from vireid.evaluation.report import format_table

    typer.echo(format_table(report.results, report.record))
    typer.echo(f"wrote {', '.join(str(p) for p in report.written)}")


def register(app: typer.Typer) -> None:
    """Add ``vireid eval`` (a plain command) to the root app."""
    app.command("eval", help=HELP, no_args_is_help=True)(eval_command)
