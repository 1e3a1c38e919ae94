"""The one check of a ``--device`` / ``run.device`` value, shared by every stage.

A device that is misspelt or absent on this machine (``--device cuda`` without a GPU,
``cuda:3`` on a two-GPU node) is one :class:`~vireid.errors.ConfigError` line naming the
flag, never a traceback from deep inside torch.
"""

from __future__ import annotations

from vireid.errors import ConfigError

SUPPORTED = "auto, cpu, cuda or cuda:N"


def resolve_device(name: str | None, *, key: str = "--device") -> str:
    """``name`` as a torch device string that exists here; ``auto`` (or empty) is the first
    GPU when there is one, else ``cpu``. Raises ConfigError naming ``key`` otherwise."""
    import torch

    text = (name or "auto").strip().lower()
    if text == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    try:
        device = torch.device(text)
    except (RuntimeError, ValueError, TypeError):
        raise ConfigError(f"{key}: {name!r} is not a device; use {SUPPORTED}") from None
    if device.type == "cpu":
        return "cpu"
    if device.type != "cuda":
        raise ConfigError(f"{key}: {name!r} is not supported; use {SUPPORTED}")
    if not torch.cuda.is_available():
        raise ConfigError(f"{key}: {name!r} asked for, but no CUDA device is available here "
                          f"(use --device cpu)")
    count = torch.cuda.device_count()
    if device.index is not None and device.index >= count:
        raise ConfigError(f"{key}: {name!r} asked for, but this machine has {count} CUDA "
                          f"device{'s' if count != 1 else ''} (cuda:0..cuda:{count - 1})")
    return str(device)
