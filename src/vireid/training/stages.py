"""Runs a method's preparatory stages: cached by fingerprint, resumable, logged.

Each stage's output is written to ``<run>/stages/<name>.pt`` with a fingerprint of what
determines it (the stage's own settings, the data, the model config, the seed and the
stages before it). A later run into the same folder with the same fingerprint reuses it,
so changing only main-stage settings never re-runs prompt learning; a different
fingerprint re-runs it. Mid-stage progress goes to ``<name>.progress.pt`` (a killed stage
resumes from its last epoch) and is removed once the stage is done. The global RNG state
after the stage is stored with its output and restored when the output is reused, so a run
that reuses a stage continues exactly like the run that computed it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import torch

from vireid.atomic import atomic_path
from vireid.fingerprint import hash_json
from vireid.methods.base import Stage, StageContext

_FORMAT = "vireid-stage"


def _save(path: Path, payload: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp:
        torch.save({"format": _FORMAT, **payload}, tmp)


def _load(path: Path, fingerprint: str) -> dict[str, Any] | None:
    """The stored payload when it exists, is readable and has ``fingerprint``; else None."""
    if not path.is_file():
        return None
    try:
        data = torch.load(path, map_location="cpu", weights_only=True)
    except Exception:  # a torn or foreign file is recomputed, never trusted
        return None
    if not isinstance(data, dict) or data.get("format") != _FORMAT or data.get("fingerprint") != fingerprint:
        return None
    return data


def run_stages(stages: Sequence[Stage], make_context: Callable[..., StageContext], stage_dir: Path, *,
               base_fingerprint: dict[str, Any], saved: dict[str, dict[str, Any]] | None,
               write: bool, log: Callable[[str], None]) -> tuple[dict[str, dict[str, Any]], dict[str, str]]:
    """Outputs of every stage, in order, and their fingerprints.

    ``saved`` (from a resumed checkpoint) wins; then a matching cached file; else the stage
    runs. ``make_context(save_progress, load_progress)`` builds each stage's context.
    ``write`` is False on non-main processes (they compute, rank 0 writes).
    """
    outputs: dict[str, dict[str, Any]] = {}
    prints: dict[str, str] = {}
    for stage in stages:
        fingerprint = hash_json({**base_fingerprint, "stage": stage.name, "config": stage.fingerprint_config(),
                                 "previous": dict(prints)})
        prints[stage.name] = fingerprint
        if saved and stage.name in saved:
            outputs[stage.name] = saved[stage.name]
            continue
        done_path = stage_dir / f"{stage.name}.pt"
        progress_path = stage_dir / f"{stage.name}.progress.pt"
        cached = _load(done_path, fingerprint)
        if cached is not None:
            log(f"stage {stage.name}: reusing {done_path} (same inputs)")
            torch.set_rng_state(cached["rng_after"])
            outputs[stage.name] = cached["output"]
            continue

        def save_progress(state: dict[str, Any], path=progress_path, fp=fingerprint) -> None:
            if write:
                _save(path, {"fingerprint": fp, "progress": state})

        def load_progress(path=progress_path, fp=fingerprint) -> dict[str, Any] | None:
            data = _load(path, fp)
            return None if data is None else data["progress"]

        output = stage.run(make_context(save_progress, load_progress), dict(outputs))
        if write:
            _save(done_path, {"fingerprint": fingerprint, "output": output, "rng_after": torch.get_rng_state()})
            progress_path.unlink(missing_ok=True)
        outputs[stage.name] = output
    return outputs, prints
