"""Run-folder ownership: one training run owns its ``--out`` folder at a time.

* A lock file ``<run>/.vireid-run.lock`` (JSON: pid, host, start time, command) is created
  with ``O_EXCL`` when a run starts and removed when it ends. A second run into the same
  folder stops with one line naming the folder and the owner. A lock left by a dead process
  of this host (SIGKILL, power loss) is taken over with a warning. Another host's process
  cannot be checked from here: a held lock's mtime is refreshed every minute (heartbeat), and
  another host's lock silent for ``STALE_AFTER_S`` (15 min) is taken over with a warning.
* A run lists the files it wrote in ``<run>/.vireid-owned.json``; nothing else in the folder
  (the user's notes, an evaluation, a checkpoint of their own) is ever moved or deleted.
* A folder that holds a run (a checkpoint a run wrote) is re-used only with ``--resume`` or
  ``--force``. ``--force`` moves the old run's files aside into ``<run>/.replaced-run/`` and
  deletes them only after the new run finished; if the new run fails (or is interrupted), its
  partial files are removed and the old run's files are moved back.
"""

from __future__ import annotations

import atexit
import json
import os
import re
import shlex
import shutil
import socket
import sys
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from vireid.atomic import process_alive, remove_stale_temps
from vireid.errors import VireidError
from vireid.owned import OWNED_NAME, files_in, move_files, read_owned, remove_empty_dirs, write_owned

LOCK_NAME = ".vireid-run.lock"
REPLACED_NAME = ".replaced-run"
# A held lock's mtime is refreshed every HEARTBEAT_S. Another host's run cannot be checked by
# pid; its lock counts as abandoned (a node that died, a re-queued job) once its heartbeat is
# older than STALE_AFTER_S, a margin of 15 missed heartbeats for clock skew and slow file systems.
HEARTBEAT_S = 60.0
STALE_AFTER_S = 15 * 60.0


class RunDirError(VireidError):
    """The run folder is in use by another run, or holds a run that would be replaced."""


def _warn(text: str) -> None:
    print(f"warning: {text}", file=sys.stderr, flush=True)


def holds_run(run_dir: str | Path) -> bool:
    """True when ``run_dir`` holds checkpoints a run wrote (a user's own ``.pt`` file in
    ``checkpoints/`` does not make it a run folder)."""
    return any(f.startswith("checkpoints/") and f.endswith(".pt") for f in run_outputs(run_dir))


class RunLock:
    """The lock file of a run folder; :meth:`acquire` raises :class:`RunDirError` when taken."""

    def __init__(self, run_dir: str | Path):
        self.run_dir = Path(run_dir)
        self.path = self.run_dir / LOCK_NAME
        self.owner = {"pid": os.getpid(), "host": socket.gethostname(),
                      "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                      "command": " ".join(sys.argv)}
        self.held = False
        self._beating: threading.Event | None = None

    def _silent_for(self) -> float | None:
        """Seconds since the lock's last heartbeat (its mtime), None when it is gone."""
        try:
            return time.time() - self.path.stat().st_mtime
        except OSError:
            return None

    def _heartbeat(self, stop: threading.Event) -> None:
        while not stop.wait(HEARTBEAT_S):
            try:
                os.utime(self.path)
            except OSError:
                pass  # a vanished lock is the next run's business; never kill training for it

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
                self._beating = threading.Event()
                threading.Thread(target=self._heartbeat, args=(self._beating,), daemon=True,
                                 name="vireid-run-lock-heartbeat").start()
                return self
            owner = self._read()
            if owner is None:  # released between our attempts
                continue
            pid, host = owner.get("pid"), owner.get("host")
            if pid == os.getpid() and host == socket.gethostname():
                raise RunDirError(f"{self.run_dir}: already in use by this process")
            if isinstance(pid, int) and host == socket.gethostname() and not process_alive(pid):
                _warn(f"{self.run_dir}: taking over the lock of a run that no longer runs "
                      f"(pid {pid}, started {owner.get('started')})")
                self.path.unlink(missing_ok=True)
                continue
            silent = self._silent_for()
            if host != socket.gethostname() and silent is not None and silent > STALE_AFTER_S:
                _warn(f"{self.run_dir}: taking over the lock of pid {pid} on {host} (started "
                      f"{owner.get('started')}): no heartbeat for {silent / 60:.0f} min")
                self.path.unlink(missing_ok=True)
                continue
            who = (f"pid {pid} on {host}, started {owner.get('started')}" if pid is not None
                   else f"unreadable lock file {self.path}")
            raise RunDirError(f"{self.run_dir}: in use by another run ({who}); wait for it to "
                              f"finish or choose another --out (a lock of another host is taken "
                              f"over once it had no heartbeat for {STALE_AFTER_S / 60:.0f} min; if "
                              f"you know that run is dead, delete {self.path})")
        raise RunDirError(f"{self.run_dir}: cannot take the run lock {self.path}")

    def release(self) -> None:
        if not self.held:
            return
        self.held = False
        if self._beating is not None:
            self._beating.set()
        owner = self._read()
        if owner and owner.get("pid") == os.getpid() and owner.get("host") == socket.gethostname():
            self.path.unlink(missing_ok=True)

    def __enter__(self) -> RunLock:
        return self.acquire()

    def __exit__(self, *exc) -> None:
        self.release()


# What a training run writes into its folder (relative paths); anything else there is the user's.
TRAIN_OUTPUTS = re.compile(r"^(config\.json"
                           r"|checkpoints/(last|best|epoch_\d+)\.pt"
                           r"|logs/(train\.csv|train\.jsonl|loss_curve\.png|stage_[^/]+\.jsonl|tb/.+)"
                           r"|stages/[^/]+\.pt)$")


def run_outputs(run_dir: str | Path) -> set[str]:
    """The files of ``run_dir`` that a run wrote: its ``.vireid-owned.json`` list, or for a
    folder written before that list existed, the files named like a run's outputs."""
    listed = read_owned(run_dir)
    present = files_in(run_dir, skip=(LOCK_NAME, REPLACED_NAME))
    if listed is not None:
        return listed & present
    return {f for f in present if TRAIN_OUTPUTS.match(f)}


class RunDir:
    """A run folder claimed for one run: the lock, plus the old run set aside by ``force``.

    ``claim()`` before anything is written; ``record()`` after each write of the run (it
    lists the run's files in ``.vireid-owned.json``); ``finish()`` after success (deletes the
    replaced run); ``abandon()`` on failure (restores the replaced run). Both release the lock.
    Only files a run wrote are ever moved or deleted: the user's own files in the folder (at
    the top level or inside ``checkpoints/``, ``logs/``...) stay where they are.
    """

    def __init__(self, run_dir: str | Path, *, resume: bool = False, force: bool = False,
                 log: Callable[[str], None] = _warn):
        self.path = Path(run_dir)
        self.resume, self.force, self.log = resume, force, log
        self.lock = RunLock(self.path)
        self.replaced: Path | None = None
        self.foreign: set[str] = set()  # files present at claim that no run wrote

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
            owned = run_outputs(self.path)
            self.foreign = files_in(self.path, skip=(LOCK_NAME, REPLACED_NAME)) - owned
            if holds_run(self.path) and not self.resume:
                if not self.force:
                    raise RunDirError(f"{self.path}: holds a run already ({describe(self.path)}); continue "
                                      f"it with --resume auto, replace it with --force, or choose "
                                      f"another --out")
                aside.mkdir()
                move_files(self.path, aside, owned | {OWNED_NAME})
                remove_empty_dirs(self.path, owned)
                self.replaced = aside
                stages = {f for f in owned if f.startswith("stages/")}
                for rel in stages:  # stage outputs are keyed by their inputs: reusable
                    (self.path / rel).parent.mkdir(parents=True, exist_ok=True)
                    shutil.copy2(aside / rel, self.path / rel)
                kept = f" (your {len(self.foreign)} other files stay in place)" if self.foreign else ""
                self.log(f"{self.path}: the previous run is kept in {aside} until this one finishes{kept}")
        except BaseException:
            self.lock.release()
            raise
        return self

    def written(self) -> set[str]:
        """The files of this folder the run owns now: listed before, or named like a run's
        output and not a file that was already there, someone else's."""
        listed = (read_owned(self.path) or set()) - self.foreign
        present = files_in(self.path, skip=(LOCK_NAME, REPLACED_NAME))
        named = {f for f in present if TRAIN_OUTPUTS.match(f)} - self.foreign
        return (listed & present) | named

    def record(self) -> None:
        """List the run's files in ``.vireid-owned.json`` (after each checkpoint and at the end)."""
        if self.lock.held:
            files = self.written()
            if files != read_owned(self.path):  # a run with nothing new rewrites nothing
                write_owned(self.path, files)

    def finish(self) -> None:
        self.record()
        if self.replaced is not None:
            shutil.rmtree(self.replaced, ignore_errors=True)
            self.replaced = None
        self.lock.release()

    def abandon(self) -> None:
        """Put a replaced run back (the failed new run's files are deleted) and release."""
        if self.replaced is not None and self.replaced.is_dir():
            new = self.written()
            for rel in new | {OWNED_NAME}:
                target = self.path / rel
                if target.is_dir() and not target.is_symlink():
                    shutil.rmtree(target, ignore_errors=True)
                else:
                    target.unlink(missing_ok=True)
            remove_empty_dirs(self.path, new)
            move_files(self.replaced, self.path, files_in(self.replaced) | {OWNED_NAME})
            shutil.rmtree(self.replaced, ignore_errors=True)
            self.log(f"{self.path}: this run failed; the previous run was restored")
            self.replaced = None
        else:
            try:
                self.record()  # a failed run's files are still its own (a later --force may replace them)
            except OSError:
                pass
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
