"""Run-folder ownership: one training run owns its ``--out`` folder at a time.

* A lock file ``<run>/.vireid-run.lock`` (JSON: pid, host, start time, command) is created
  with ``O_EXCL`` when a run starts and removed when it ends. A second run into the same
  folder stops with one line naming the folder and the owner. A lock left by a dead process
  of this host (SIGKILL, power loss) is taken over with a warning; one of another host is
  never taken over (its process cannot be checked from here).
* A folder that holds a run (any ``checkpoints/*.pt``) is re-used only with ``--resume`` or
  ``--force``. ``--force`` moves the old run aside into ``<run>/.replaced-run/`` and deletes
  it only after the new run finished; if the new run fails (or is interrupted), its partial
  files are removed and the old run is moved back.
"""

from __future__ import annotations

import atexit
import json
import os
import shlex
import shutil
import socket
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from vireid.atomic import remove_stale_temps
from vireid.errors import VireidError

LOCK_NAME = ".vireid-run.lock"
REPLACED_NAME = ".replaced-run"


class RunDirError(VireidError):
    """The run folder is in use by another run, or holds a run that would be replaced."""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _warn(text: str) -> None:
    print(f"warning: {text}", file=sys.stderr, flush=True)


def holds_run(run_dir: str | Path) -> bool:
    """True when ``run_dir`` holds the checkpoints of a run."""
    ckpts = Path(run_dir) / "checkpoints"
    return ckpts.is_dir() and any(ckpts.glob("*.pt"))


class RunLock:
    """The lock file of a run folder; :meth:`acquire` raises :class:`RunDirError` when taken."""

    def __init__(self, run_dir: str | Path):
        self.run_dir = Path(run_dir)
        self.path = self.run_dir / LOCK_NAME
        self.owner = {"pid": os.getpid(), "host": socket.gethostname(),
                      "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                      "command": " ".join(sys.argv)}
        self.held = False

    def _read(self) -> dict[str, Any] | None:
        try:
            data = json.loads(self.path.read_text())
        except FileNotFoundError:
            return None
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def _create(self) -> bool:
        try:
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        except FileExistsError:
            return False
        with os.fdopen(fd, "w") as fh:
            json.dump(self.owner, fh)
        return True

    def acquire(self) -> RunLock:
        self.run_dir.mkdir(parents=True, exist_ok=True)
        for _ in range(3):
            if self._create():
                self.held = True
                atexit.register(self.release)
                return self
            owner = self._read()
            if owner is None:  # released between our attempts
                continue
            pid, host = owner.get("pid"), owner.get("host")
            if pid == os.getpid() and host == socket.gethostname():
                raise RunDirError(f"{self.run_dir}: already in use by this process")
            if isinstance(pid, int) and host == socket.gethostname() and not _alive(pid):
                _warn(f"{self.run_dir}: taking over the lock of a run that no longer runs "
                      f"(pid {pid}, started {owner.get('started')})")
                self.path.unlink(missing_ok=True)
                continue
            who = (f"pid {pid} on {host}, started {owner.get('started')}" if pid is not None
                   else f"unreadable lock file {self.path}")
            raise RunDirError(f"{self.run_dir}: in use by another run ({who}); wait for it to "
                              f"finish or choose another --out (a lock of a killed run on another "
                              f"host: delete {self.path})")
        raise RunDirError(f"{self.run_dir}: cannot take the run lock {self.path}")

    def release(self) -> None:
        if not self.held:
            return
        self.held = False
        owner = self._read()
        if owner and owner.get("pid") == os.getpid() and owner.get("host") == socket.gethostname():
            self.path.unlink(missing_ok=True)

    def __enter__(self) -> RunLock:
        return self.acquire()

    def __exit__(self, *exc) -> None:
        self.release()


class RunDir:
    """A run folder claimed for one run: the lock, plus the old run set aside by ``force``.

    ``claim()`` before anything is written; ``finish()`` after success (deletes the replaced
    run); ``abandon()`` on failure (restores the replaced run). Both release the lock.
    """

    def __init__(self, run_dir: str | Path, *, resume: bool = False, force: bool = False,
                 log: Callable[[str], None] = _warn):
        self.path = Path(run_dir)
        self.resume, self.force, self.log = resume, force, log
        self.lock = RunLock(self.path)
        self.replaced: Path | None = None

    def claim(self) -> RunDir:
        if self.resume and self.force:
            raise RunDirError("--resume and --force contradict each other: --force replaces the run "
                              "that --resume would continue")
        self.lock.acquire()
        try:
            for target in (self.path / "checkpoints" / "last.pt", self.path / "checkpoints" / "best.pt",
                           self.path / "config.json"):  # temporary files of a killed writer
                if target.parent.is_dir():
                    remove_stale_temps(target)
            aside = self.path / REPLACED_NAME
            if aside.exists():
                raise RunDirError(f"{aside}: holds the run a killed --force run was replacing; move "
                                  f"it back into {self.path} or delete it, then retry")
            if holds_run(self.path) and not self.resume:
                if not self.force:
                    raise RunDirError(f"{self.path}: holds a run already ({describe(self.path)}); continue "
                                      f"it with --resume auto, replace it with --force, or choose "
                                      f"another --out")
                aside.mkdir()
                for entry in self.path.iterdir():
                    if entry.name not in (LOCK_NAME, REPLACED_NAME):
                        entry.rename(aside / entry.name)
                self.replaced = aside
                if (aside / "stages").is_dir():  # stage outputs are keyed by their inputs: reusable
                    shutil.copytree(aside / "stages", self.path / "stages")
                self.log(f"{self.path}: the previous run is kept in {aside} until this one finishes")
        except BaseException:
            self.lock.release()
            raise
        return self

    def finish(self) -> None:
        if self.replaced is not None:
            shutil.rmtree(self.replaced, ignore_errors=True)
            self.replaced = None
        self.lock.release()

    def abandon(self) -> None:
        """Put a replaced run back (the failed new run's files are deleted) and release."""
        if self.replaced is not None and self.replaced.is_dir():
            for entry in self.path.iterdir():
                if entry.name in (LOCK_NAME, REPLACED_NAME):
                    continue
                if entry.is_dir() and not entry.is_symlink():
                    shutil.rmtree(entry, ignore_errors=True)
                else:
                    entry.unlink(missing_ok=True)
            for entry in self.replaced.iterdir():
                entry.rename(self.path / entry.name)
            self.replaced.rmdir()
            self.log(f"{self.path}: this run failed; the previous run was restored")
            self.replaced = None
        self.lock.release()


def describe(run_dir: str | Path) -> str:
    """``"epoch 3 of 20"``-style summary of a run folder's last checkpoint, from its logs."""
    path = Path(run_dir)
    try:
        info = json.loads((path / "config.json").read_text())
        total = info["config"]["optim"]["epochs"]
    except (OSError, ValueError, KeyError, TypeError):
        total = None
    done = None
    try:
        lines = [ln for ln in (path / "logs" / "train.jsonl").read_text().splitlines() if ln.strip()]
        done = json.loads(lines[-1]).get("epoch") if lines else 0
    except (OSError, ValueError, AttributeError):
        pass
    if done is None:
        return "checkpoints/ not empty"
    return f"trained {done}" + (f" of {total}" if total else "") + " epochs"


def resume_command(argv: Sequence[str] | None = None) -> str:
    """The command line that resumes this training run: ``--resume auto`` instead of any
    ``--resume X`` or ``--force``."""
    argv = list(sys.argv if argv is None else argv)
    args = argv[1:]
    kept: list[str] = []
    skip = False
    for arg in args:
        if skip:
            skip = False
            continue
        if arg == "--resume":
            skip = True
            continue
        if arg.startswith("--resume=") or arg == "--force":
            continue
        kept.append(arg)
    return shlex.join(["vireid", *kept, "--resume", "auto"])
