"""The trainer's side of checkpoints: ``--resume`` paths (RNG states: :mod:`vireid.rng`).

The file format (atomic save, safe load, layout version) is the model package's
(:mod:`vireid.models.store`); the trainer adds optimiser, scheduler, sampler, RNG, epoch,
config, fingerprints, metrics, history and method/stage state to it.
"""

from __future__ import annotations

from pathlib import Path

from vireid.models.store import CheckpointError


def resolve_resume(resume: str, run_dir: Path) -> Path | None:
    """``--resume auto`` means ``<run>/checkpoints/last.pt`` if it exists (else a fresh run);
    any other value is a checkpoint path that must exist."""
    if resume == "auto":
        last = run_dir / "checkpoints" / "last.pt"
        return last if last.is_file() else None
    path = Path(resume)
    if not path.is_file():
        raise CheckpointError(f"{path}: --resume checkpoint not found")
    return path
