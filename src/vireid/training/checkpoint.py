"""The trainer's side of checkpoints: RNG states for exact resume and ``--resume`` paths.

The file format (atomic save, safe load, layout version) is the model package's
(:mod:`vireid.models.store`); the trainer adds optimiser, scheduler, sampler, RNG, epoch,
config, fingerprints, metrics, history and method/stage state to it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from vireid.models.store import CheckpointError


def rng_state() -> dict[str, Any]:
    """Global torch RNG states (CPU and every CUDA device), for exact resume."""
    state: dict[str, Any] = {"torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict[str, Any]) -> None:
    torch.set_rng_state(state["torch"].cpu())
    if "cuda" in state and torch.cuda.is_available():
        cuda = [s.cpu() for s in state["cuda"]]
        if len(cuda) == torch.cuda.device_count():
            torch.cuda.set_rng_state_all(cuda)


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
