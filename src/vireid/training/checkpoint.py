"""Training checkpoints: atomic writes, safe loading, the agreed vireid format.

A checkpoint is a ``torch.save``'d dict with the keys every reader relies on
(``format = "vireid-checkpoint"``, ``version``, ``model_config``, ``num_classes``, ``model``)
plus the trainer's own: ``optimizer``, ``scheduler``, ``sampler``, ``rng``, ``epoch`` (epochs
completed), ``train_config``, ``fingerprints``, ``metrics``, ``history``. Everything is plain
data and tensors, so :func:`load_checkpoint` reads it with ``torch.load(weights_only=True)``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from vireid.atomic import atomic_path
from vireid.errors import VireidError

FORMAT = "vireid-checkpoint"
VERSION = 1
REQUIRED_KEYS = ("format", "version", "model_config", "num_classes", "model")


class CheckpointError(VireidError):
    """A checkpoint is missing, unreadable or not a vireid checkpoint."""


def save_checkpoint(path: str | Path, state: dict[str, Any]) -> Path:
    """Write ``state`` (plus format/version) to ``path`` atomically (temp file + rename)."""
    payload = {"format": FORMAT, "version": VERSION, **state}
    missing = [k for k in REQUIRED_KEYS if k not in payload]
    if missing:
        raise ValueError(f"checkpoint state lacks {', '.join(missing)}")
    path = Path(path)
    with atomic_path(path) as tmp:
        torch.save(payload, tmp)
    return path


def load_checkpoint(path: str | Path, map_location: str | torch.device = "cpu") -> dict[str, Any]:
    """Read and check a vireid checkpoint; errors name the path."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: checkpoint not found")
    try:
        state = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as exc:  # pickle/zip errors come in many types
        # torch's own messages run to a screenful; the first line says what went wrong.
        first = (str(exc).strip().splitlines() or [""])[0][:200]
        raise CheckpointError(f"{path}: unreadable checkpoint, not a vireid .pt file "
                              f"({type(exc).__name__}: {first})") from None
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        raise CheckpointError(f"{path}: not a vireid checkpoint (no format={FORMAT!r} key)")
    if state.get("version") != VERSION:
        raise CheckpointError(
            f"{path}: checkpoint version {state.get('version')!r}; this vireid reads version {VERSION}")
    missing = [k for k in REQUIRED_KEYS if k not in state]
    if missing:
        raise CheckpointError(f"{path}: checkpoint lacks {', '.join(missing)}")
    return state


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
