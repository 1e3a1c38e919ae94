"""User-facing errors.

Anything a user can cause (a wrong path, a bad config key, a corrupt file) is raised as a
:class:`VireidError`. The CLI turns it into one ``error: ...`` line and a non-zero exit;
everything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import errno
import os
import re


class VireidError(Exception):
    """An error caused by user input; its message names the offending path or key."""

    exit_code = 2


class ConfigError(VireidError):
    """A configuration file or override is invalid."""


class ManifestError(VireidError):
    """A manifest is missing, unreadable or does not match its schema."""


class DatasetError(VireidError):
    """A dataset folder does not have the expected layout."""

    def __init__(self, problems: list[str] | str):
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        super().__init__("\n".join(self.problems))


class StorageError(VireidError):
    """A file cannot be written: the disk is full, or the folder is read-only or not ours."""


class DataLimitError(VireidError, ValueError):
    """The data cannot satisfy a requested size (identities per batch, held-out ids, ...).

    Also a ValueError, so callers written against the old ValueError keep working.
    """


# errno -> message; these are conditions of the machine, not bugs, so the user gets one
# line naming the path instead of a traceback.
_WRITE_ERRORS = {
    errno.ENOSPC: "no space left on device writing {path}",
    errno.EDQUOT: "disk quota exceeded writing {path}",
    errno.EROFS: "cannot write {path}: read-only file system",
    errno.EACCES: "cannot write {path}: permission denied",
    errno.EPERM: "cannot write {path}: operation not permitted",
}
# Outside a write we do not know the direction of an EACCES/EPERM.
_ACCESS_ERRORS = {
    **_WRITE_ERRORS,
    errno.EACCES: "cannot access {path}: permission denied",
    errno.EPERM: "cannot access {path}: operation not permitted",
}
_ERRNO_IN_TEXT = re.compile(r"\[Errno (\d+)\]")


def os_errno(exc: BaseException) -> int | None:
    """The errno of an OSError; pyarrow's IO errors carry it only in their message."""
    if not isinstance(exc, OSError):
        return None
    if exc.errno is not None:
        return exc.errno
    match = _ERRNO_IN_TEXT.search(str(exc))
    return int(match.group(1)) if match else None


def storage_error(exc: BaseException, path: str | os.PathLike | None = None, *,
                  writing: bool = True) -> StorageError | None:
    """``exc`` as a one-line :class:`StorageError` naming ``path`` (else the file the OS
    named), or None when it is not a full-disk / read-only / permission problem."""
    messages = _WRITE_ERRORS if writing else _ACCESS_ERRORS
    code = os_errno(exc)
    if code not in messages:
        return None
    if path is None:
        path = getattr(exc, "filename", None) or "a file"
    return StorageError(messages[code].format(path=os.fspath(path)))


class Terminated(KeyboardInterrupt):
    """SIGTERM (a cluster scheduler's stop, ``kill``): raised where the program is, so it
    unwinds exactly like Ctrl-C (files closed, the run lock released, the resume line printed);
    the command then exits with 143 (128 + SIGTERM) instead of Ctrl-C's 130."""


_resume_hint: str | None = None


def set_resume_hint(text: str | None) -> None:
    """Tell the user how to resume this command should they interrupt it (Ctrl-C).

    A long-running command calls this when it starts, e.g. captioning: ``set_resume_hint("re-run
    the same command to resume")``, training: ``set_resume_hint("resume with --resume auto")``.
    ``vireid``'s entry point then prints ``interrupted; <text>`` and exits with 130. ``None``
    clears the hint.
    """
    global _resume_hint
    _resume_hint = text


def resume_hint() -> str | None:
    """The hint set by :func:`set_resume_hint`, if any."""
    return _resume_hint
