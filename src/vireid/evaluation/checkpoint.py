"""Evaluate a trained checkpoint: the one "load checkpoint -> extract features -> evaluate"
path shared by ``vireid eval``, the pipeline and the benchmarks.

The network comes from ``vireid.models`` (``model_from_state``), never from the training
package: evaluation needs nothing of training but the checkpoint file.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from vireid.evaluation.features import FeatureOptions, extract_features
from vireid.evaluation.errors import EvaluationError
from vireid.evaluation.runner import plan, required_images, run_protocol
from vireid.evaluation.store import FeatureTable
from vireid.device import resolve_device
from vireid.fingerprint import hash_file


def training_record(state: dict[str, Any]) -> dict[str, Any]:
    """What produced a checkpoint, for results.json: method, epoch, seed, selection, data."""
    cfg = state.get("train_config") or {}
    data = cfg.get("data") or {}
    best = state.get("best") or {}
    policy = (cfg.get("run") or {}).get("selection", "val")
    epoch = state.get("epoch")
    if best and best.get("epoch") == epoch:
        detail = f"best {best.get('metric')} on held-out training ids (epoch {best.get('epoch')})"
    elif policy == "refit":
        detail = f"epoch count {epoch} chosen on held-out ids, retrained on every training id"
    elif policy == "last":
        detail = f"final epoch {epoch}, every training id"
    elif not best:  # selection "val" without held-out ids: nothing was selected
        policy = "last"
        detail = f"final epoch {epoch}; no training ids were held out, so none was selected"
    else:
        detail = (f"epoch {epoch}, not the one selected on held-out ids (epoch {best.get('epoch')}, "
                  f"best.pt)")
    return {"method": cfg.get("method"), "preset": cfg.get("preset"), "recipe": cfg.get("recipe") or None,
            "epoch": epoch, "seed": (cfg.get("run") or {}).get("seed"), "selection": policy,
            "selection_detail": detail,
            "pixel_stats": (cfg.get("model") or {}).get("pixel_stats", "clip"),
            "trained_on": {"dataset": data.get("dataset"), "trial": data.get("trial") or None},
            "layout_version": state.get("version")}


def load_checkpoint_model(checkpoint: str | Path, device: str = "cpu") -> tuple[Any, dict[str, Any]]:
    """``(model, meta)``: the network in eval mode on ``device``, and what produced it
    (checkpoint path and sha256, :func:`training_record`). A missing or unreadable file is a
    VireidError naming it (never a silently random model)."""
    from vireid.models.store import load_checkpoint, model_from_state

    device = resolve_device(device)
    if not Path(checkpoint).is_file():
        raise EvaluationError(f"{checkpoint}: checkpoint not found")
    state = load_checkpoint(checkpoint)
    model = model_from_state(state, checkpoint).to(device)
    meta = {"checkpoint": str(checkpoint), "checkpoint_sha256": hash_file(checkpoint),
            "training": training_record(state)}
    return model, meta


def check_trained_trial(meta: dict[str, Any], dataset: str, regdb_trial: int | None) -> None:
    """RegDB tests trial T's model on trial T only: another trial's test ids were its training ids."""
    trained = (meta.get("training") or {}).get("trained_on") or {}
    if dataset == "regdb" and trained.get("dataset") == "regdb" and trained.get("trial") not in (None, regdb_trial):
        raise EvaluationError(f"{meta.get('checkpoint')}: trained on RegDB trial {trained['trial']}, evaluated "
                              f"on trial {regdb_trial}: that trial's test identities include this model's "
                              f"training identities. Evaluate with --trial {trained['trial']} (or "
                              f"--allow-other-trial to evaluate anyway)")


def extract_table(model: Any, dataset: str, root: str | Path, *, trials: int = 10,
                  regdb_trial: int | None = None, options: FeatureOptions = FeatureOptions(),
                  batch_size: int = 64, num_workers: int = 0, device: str = "cpu",
                  meta: dict[str, Any] | None = None) -> FeatureTable:
    """Features of every image any setting/trial needs, each computed once; the table's
    metadata records the options resolved against the network (its pixel statistics named)."""
    options = options.resolved(model)
    paths, modalities = required_images(plan(dataset, root, trials, regdb_trial))
    feats = extract_features(model, root, paths, modalities, options, batch_size=batch_size,
                             num_workers=num_workers, device=device)
    info = {"dataset": dataset, **options.record(), "regdb_trial": regdb_trial}
    return FeatureTable(paths, feats, modalities, {**info, **(meta or {})})


def checkpoint_features(checkpoint: str | Path, dataset: str, root: str | Path, *, trials: int = 10,
                        regdb_trial: int | None = None, options: FeatureOptions = FeatureOptions(),
                        batch_size: int = 64, num_workers: int = 0, device: str = "cpu",
                        allow_other_trial: bool = False) -> FeatureTable:
    """Load ``checkpoint`` and extract the test features its evaluation needs."""
    model, meta = load_checkpoint_model(checkpoint, device)
    try:
        check_trained_trial(meta, dataset, regdb_trial)
    except EvaluationError as exc:
        if not allow_other_trial:
            raise
        print(f"warning: {exc}".replace(" (or --allow-other-trial to evaluate anyway)", ""),
              file=sys.stderr, flush=True)
        meta["other_trial"] = True  # recorded in the features' metadata
    return extract_table(model, dataset, root, trials=trials, regdb_trial=regdb_trial, options=options,
                         batch_size=batch_size, num_workers=num_workers, device=device, meta=meta)


def evaluate_checkpoint(checkpoint: str | Path, dataset: str, root: str | Path, *, trials: int = 10,
                        regdb_trial: int | None = None, options: FeatureOptions = FeatureOptions(),
                        batch_size: int = 64, num_workers: int = 0, device: str = "cpu",
                        max_rank: int = 20) -> tuple[dict[str, Any], FeatureTable]:
    """``(results, feature table)`` of ``checkpoint`` on ``dataset`` (no files written)."""
    table = checkpoint_features(checkpoint, dataset, root, trials=trials, regdb_trial=regdb_trial,
                                options=options, batch_size=batch_size, num_workers=num_workers,
                                device=device)
    results = run_protocol(dataset, root, table, trials=trials, regdb_trial=regdb_trial,
                           max_rank=max_rank)
    return results, table
