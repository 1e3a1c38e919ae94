"""Evaluate a trained checkpoint: load the model, extract each needed test image once, run
the protocol. The model comes from ``vireid.training.inference.load_model`` (imported here,
lazily, so the evaluation package works without the training stage for saved features)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from vireid.evaluation.features import extract_features
from vireid.evaluation.metrics import EvaluationError
from vireid.evaluation.runner import plan, required_images, run_protocol
from vireid.evaluation.store import FeatureTable
from vireid.fingerprint import hash_file


def load_checkpoint_model(checkpoint: str | Path, device: str = "cpu") -> tuple[Any, dict[str, Any]]:
    """``(model, {"checkpoint", "checkpoint_sha256"})``; a missing or unreadable file is a
    VireidError naming it (never a silently random model)."""
    if not Path(checkpoint).is_file():
        raise EvaluationError(f"{checkpoint}: checkpoint not found")
    try:
        from vireid.training.inference import load_model
    except ImportError as exc:
        raise EvaluationError(f"cannot load {checkpoint}: the training stage's model loader is "
                              f"unavailable ({exc})") from None
    model = load_model(checkpoint, device)
    return model, {"checkpoint": str(checkpoint), "checkpoint_sha256": hash_file(checkpoint)}


def extract_table(model: Any, dataset: str, root: str | Path, *, trials: int = 10,
                  regdb_trial: int | None = None, feature: str = "concat", flip: bool = True,
                  batch_size: int = 64, num_workers: int = 0, device: str = "cpu",
                  meta: dict[str, Any] | None = None) -> FeatureTable:
    """Features of every image any setting/trial needs, each computed once."""
    paths, modalities = required_images(plan(dataset, root, trials, regdb_trial))
    feats = extract_features(model, root, paths, modalities, feature=feature, flip=flip,
                             batch_size=batch_size, num_workers=num_workers, device=device)
    info = {"dataset": dataset, "feature": feature, "flip": flip, "regdb_trial": regdb_trial}
    return FeatureTable(paths, feats, modalities, {**info, **(meta or {})})


def evaluate_checkpoint(checkpoint: str | Path, dataset: str, root: str | Path, *, trials: int = 10,
                        regdb_trial: int | None = None, feature: str = "concat", flip: bool = True,
                        batch_size: int = 64, num_workers: int = 0, device: str = "cpu",
                        max_rank: int = 20) -> tuple[dict[str, Any], FeatureTable]:
    """``(results, feature table)`` of ``checkpoint`` on ``dataset``; load_model raises a
    VireidError naming the path for a missing or unreadable checkpoint."""
    model, meta = load_checkpoint_model(checkpoint, device)
    table = extract_table(model, dataset, root, trials=trials, regdb_trial=regdb_trial,
                          feature=feature, flip=flip, batch_size=batch_size,
                          num_workers=num_workers, device=device, meta=meta)
    results = run_protocol(dataset, root, table, trials=trials, regdb_trial=regdb_trial,
                           max_rank=max_rank)
    return results, table
