"""vireid.evaluation: SYSU-MM01 / RegDB / LLCM protocols, metrics, features and reports."""

from vireid.evaluation.metrics import PROTOCOLS, EvalResult, EvaluationError, evaluate

__all__ = ["PROTOCOLS", "EvalResult", "EvaluationError", "evaluate"]
