"""The line under every number of a run: how it was measured."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def describe_evaluation(record: dict[str, Any]) -> str:
    """The line under every number of a run: protocol, trials, feature, flip, checkpoint, selection, seed."""
    results = record.get("results") or {}
    training = record.get("training") or {}
    trials = ", ".join(map(str, results.get("trials") or [])) or "?"
    return (f"protocol {results.get('dataset', record.get('protocol'))}, trials [{trials}], "
            f"feature {record.get('feature')}, flip {record.get('flip')}, resize {record.get('interpolation')}, "
            f"checkpoint {Path(str(record.get('checkpoint'))).name} "
            f"(sha256 {str(record.get('checkpoint_sha256') or '?')[:12]}), selection "
            f"{training.get('selection', '?')} [{training.get('selection_detail', '')}], "
            f"seed {training.get('seed', '?')}; percent, mean ± population std over trials")
