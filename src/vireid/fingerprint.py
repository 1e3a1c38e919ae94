"""Content fingerprints and run provenance, so every output says what produced it."""

from __future__ import annotations

import hashlib
import json
import platform
import subprocess
from collections.abc import Iterable, Mapping
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

_CHUNK = 1 << 20


def hash_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def hash_file(path: str | Path) -> str:
    """SHA-256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def canonical_json(obj: Any) -> str:
    """JSON with sorted keys and no whitespace: equal data gives equal text."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), default=str)


def hash_json(obj: Any) -> str:
    """Fingerprint of any JSON-serialisable value (dict order does not matter)."""
    return hash_bytes(canonical_json(obj).encode())


def hash_strings(items: Iterable[str]) -> str:
    """Order-sensitive fingerprint of a sequence of strings."""
    digest = hashlib.sha256()
    for item in items:
        digest.update(item.encode())
        digest.update(b"\0")
    return digest.hexdigest()


def git_commit(cwd: str | Path | None = None) -> str | None:
    """The current git commit of the source tree, or None outside a checkout."""
    here = Path(cwd) if cwd else Path(__file__).resolve().parent
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=here, capture_output=True, text=True, timeout=5
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None if out.returncode == 0 else None


# The distributions whose version can change a number vireid prints (kernels, decoders, RNGs).
RECORDED_LIBRARIES = ("torch", "torchvision", "transformers", "accelerate", "bitsandbytes",
                      "open_clip_torch", "pyarrow", "numpy", "pillow")


def library_versions(names: Iterable[str] = RECORDED_LIBRARIES) -> dict[str, str | None]:
    from importlib.metadata import PackageNotFoundError, version

    versions: dict[str, str | None] = {}
    for name in names:
        try:
            versions[name] = version(name)
        except PackageNotFoundError:
            versions[name] = None
    return versions


def provenance(extra: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """What every results/summary JSON records about how it was made."""
    from vireid import __version__

    info: dict[str, Any] = {
        "vireid_version": __version__,
        "git_commit": git_commit(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "libraries": library_versions(),
        "created_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }
    if extra:
        info.update(extra)
    return info
