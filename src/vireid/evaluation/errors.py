"""The evaluation package's error type, in its own module so metrics and the ranker share it
without importing each other."""

from vireid.errors import VireidError


class EvaluationError(VireidError):
    """Evaluation inputs are inconsistent (shapes, protocol name, no valid query)."""
