"""User-facing errors.

Anything a user can cause (a wrong path, a bad config key, a corrupt file) is raised as a
:class:`VireidError`. The CLI turns it into one ``error: ...`` line and a non-zero exit;
everything else is a bug and keeps its traceback.
"""

from __future__ import annotations


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
