"""Atomic file writes: a reader (or a crash) never sees a half-written file.

Temporary files are named ``.<name>.<host>-<pid>.<random>.tmp`` next to their target, so a
later run can tell the leftovers of a killed writer (process gone) from a live writer's file
(:func:`remove_stale_temps`). A full disk or a read-only folder becomes a one-line
:class:`~vireid.errors.StorageError` naming the target, and the temporary file is removed.
"""

from __future__ import annotations

import json
import os
import re
import socket
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from vireid.errors import storage_error

# Temporary files without an owner in their name (written before owners were recorded) are
# taken as abandoned once nobody has touched them for this long.
OWNERLESS_STALE_S = 600.0


def _host() -> str:
    return re.sub(r"[^A-Za-z0-9_.]", "_", socket.gethostname()) or "host"


def _translated(exc: OSError, path: Path, tmp: Path | None) -> BaseException:
    # Only errors about the file being written name the target; an error about some other
    # file (an input read by the writer) keeps its own name and direction.
    named = getattr(exc, "filename", None)
    if named is not None and tmp is not None and Path(named) not in (tmp, path):
        return exc
    return storage_error(exc, path) or exc


@contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path in the target's folder; rename it over ``path`` on success.

    The rename is atomic on POSIX, so ``path`` holds either the old or the new content,
    even after SIGKILL. On an exception the temporary file is removed and ``path`` is left
    untouched; ENOSPC/EDQUOT/EROFS/EACCES become a :class:`StorageError` naming ``path``.
    """
    path = Path(path)
    tmp_path: Path | None = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.{_host()}-{os.getpid()}.",
                                   suffix=".tmp", dir=path.parent)
        tmp_path = Path(tmp)
        # mkstemp creates 0600 files; give the result the permissions a plain open() would.
        umask = os.umask(0)
        os.umask(umask)
        os.fchmod(fd, 0o666 & ~umask)
        os.close(fd)
        yield tmp_path
        os.replace(tmp_path, path)
    except OSError as exc:
        _remove(tmp_path)
        translated = _translated(exc, path, tmp_path)
        if translated is exc:
            raise
        raise translated from exc
    except BaseException:
        _remove(tmp_path)
        raise


def _remove(tmp_path: Path | None) -> None:
    if tmp_path is not None:
        tmp_path.unlink(missing_ok=True)


def process_alive(pid: int) -> bool:
    """Whether process ``pid`` of this host still runs (one owned by another user counts)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # exists, owned by someone else
    return True


def remove_stale_temps(path: str | Path) -> list[Path]:
    """Delete the temporary files of ``path`` left by writers that no longer run.

    A file of this host whose process is gone is stale; one of another host is left alone (its
    process cannot be checked from here); one without an owner is stale once untouched for
    :data:`OWNERLESS_STALE_S`. Returns the removed paths.
    """
    path = Path(path)
    owned = re.compile(rf"^\.{re.escape(path.name)}\.(?P<host>.+)-(?P<pid>\d+)\.[^.]+\.tmp$")
    removed = []
    for tmp in path.parent.glob(f".{glob_escape(path.name)}.*.tmp"):
        match = owned.match(tmp.name)
        if match:
            stale = match["host"] == _host() and not process_alive(int(match["pid"]))
        else:
            try:
                stale = time.time() - tmp.stat().st_mtime > OWNERLESS_STALE_S
            except FileNotFoundError:
                continue
        if stale:
            tmp.unlink(missing_ok=True)
            removed.append(tmp)
    return removed


def glob_escape(text: str) -> str:
    """``text`` with glob metacharacters escaped."""
    return re.sub(r"([*?\[])", r"[\1]", text)


def write_atomic(path: str | Path, writer: Callable[[Path], Any]) -> Path:
    """Call ``writer(tmp_path)`` and atomically move the result to ``path``."""
    with atomic_path(path) as tmp:
        writer(tmp)
    return Path(path)


def write_json(path: str | Path, obj: Any) -> Path:
    """Write ``obj`` as indented JSON, atomically."""
    text = json.dumps(obj, indent=2, sort_keys=False, default=str) + "\n"
    return write_atomic(path, lambda tmp: tmp.write_text(text))


def copy_atomic(src: str | Path, dst: str | Path) -> Path:
    """Copy ``src`` to ``dst`` so that ``dst`` is either the old file or the whole new one."""
    import shutil

    return write_atomic(dst, lambda tmp: shutil.copyfile(src, tmp))
