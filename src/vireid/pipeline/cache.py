"""Stage caching: a stage whose inputs are unchanged and whose outputs exist is skipped.

Each stage writes a stamp, ``<stamp_dir>/<stage>.json``, holding the fingerprints of its inputs
(dataset file list, manifests, config, code version) and the paths of its outputs. Running the
stage again compares the new input fingerprints with the stamp: equal and every output present
means skip; anything else means re-run. The stamp is written only after the stage succeeded, so
a crashed stage always re-runs.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vireid.atomic import write_json
from vireid.fingerprint import canonical_json


@dataclass(frozen=True)
class StageOutcome:
    name: str
    ran: bool
    reason: str
    seconds: float


def _load_stamp(path: Path) -> dict[str, Any] | None:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def stale_reason(stamp_path: Path, inputs: Mapping[str, Any], outputs: Sequence[Path]) -> str | None:
    """Why the stage must run, or None when it is up to date."""
    stamp = _load_stamp(stamp_path)
    if stamp is None:
        return "no previous run"
    old = stamp.get("inputs", {})
    new = json.loads(canonical_json(inputs))
    changed = sorted(k for k in set(old) | set(new) if old.get(k) != new.get(k))
    if changed:
        return "inputs changed: " + ", ".join(changed)
    missing = [str(p) for p in outputs if not Path(p).exists()]
    if missing:
        return "output missing: " + missing[0]
    return None


def run_stage(
    name: str,
    stamp_dir: Path,
    inputs: Mapping[str, Any],
    outputs: Sequence[Path],
    fn: Callable[[], Any],
    *,
    force: bool = False,
    echo: Callable[[str], None] = print,
) -> StageOutcome:
    """Run ``fn`` unless the stage is up to date; record a stamp after success."""
    stamp_path = Path(stamp_dir) / f"{name}.json"
    reason = "--force" if force else stale_reason(stamp_path, inputs, outputs)
    if reason is None:
        echo(f"[{name}] up to date, skipped (inputs unchanged; --force re-runs)")
        return StageOutcome(name, False, "up to date", 0.0)
    echo(f"[{name}] running ({reason})")
    start = time.perf_counter()
    fn()
    seconds = time.perf_counter() - start
    write_json(stamp_path, {
        "stage": name,
        "inputs": json.loads(canonical_json(inputs)),
        "outputs": [str(p) for p in outputs],
        "seconds": round(seconds, 3),
        "finished_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    })
    echo(f"[{name}] done in {seconds:.1f} s")
    return StageOutcome(name, True, reason, seconds)
