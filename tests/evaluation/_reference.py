"""Loads the per-query reference evaluators from bench/bench_evaluation.py (one copy, used by both)."""

import importlib.util
from pathlib import Path

_PATH = Path(__file__).resolve().parents[2] / "bench" / "bench_evaluation.py"
_spec = importlib.util.spec_from_file_location("_bench_evaluation", _PATH)
_module = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_module)
reference_evaluate = _module.reference_evaluate
field_style_evaluate = _module.field_style_evaluate
