"""What ``vireid report`` reads: run folders (one trained and/or evaluated model each) and
folders of runs (``make demo``'s runs/demo, a ``vireid reproduce --out`` folder).

A run folder is what ``vireid train --out`` and the pipeline write::

    config.json              resolved config, input fingerprints, seed, provenance
    logs/train.jsonl         one record per finished epoch (loss/*, grad/*, val/*, lr/*)
    checkpoints/*.pt         last.pt, best.pt
    results/results.json     every protocol number (or results.json at the top: `vireid eval --out`)
    results/features.npz     the test features evaluated

Each piece may be missing (a run killed midway, one never evaluated); :class:`RunFolder`
records what is missing and why, and the page says so instead of failing.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vireid.errors import VireidError

RUN_FILES = ("logs/train.jsonl", "results/results.json", "results.json")  # besides config.json, checkpoints
_UNIT = re.compile(r"^(?P<row>.+)-seed(?P<seed>\d+)(?:-trial(?P<trial>\d+))?$")


class ReportError(VireidError):
    """A report input is not a run folder, or a folder of runs, or is unreadable."""


@dataclass
class RunFolder:
    """One run's files, read once; ``missing`` lists what the page cannot show and why."""

    path: Path
    name: str
    config: dict[str, Any] | None = None          # config.json
    record: dict[str, Any] | None = None          # results.json
    history: list[dict[str, Any]] = field(default_factory=list)   # logs/train.jsonl
    checkpoints: list[Path] = field(default_factory=list)
    features: Path | None = None
    missing: list[str] = field(default_factory=list)

    @property
    def train_config(self) -> dict[str, Any]:
        return (self.config or {}).get("config") or {}

    @property
    def row(self) -> str:
        """The comparison row: a reproduce unit ``<row>-seed<k>[-trial<T>]`` joins its row."""
        match = _UNIT.match(self.name)
        return match["row"] if match else self.name

    @property
    def seed(self) -> int | None:
        match = _UNIT.match(self.name)
        if match:
            return int(match["seed"])
        seed = (self.config or {}).get("seed")
        if seed is None:
            seed = ((self.record or {}).get("training") or {}).get("seed")
        return int(seed) if isinstance(seed, int) else None

    @property
    def planned_epochs(self) -> int | None:
        epochs = (self.train_config.get("optim") or {}).get("epochs")
        return int(epochs) if isinstance(epochs, int) else None

    @property
    def epochs_done(self) -> int:
        return max((int(r.get("epoch", 0)) for r in self.history), default=0)

    def caption_manifests(self) -> list[Path]:
        """The caption manifests training read (from config.json's input fingerprints)."""
        prints = (self.config or {}).get("fingerprints") or {}
        return [Path(k.split(":", 1)[1]) for k in prints if k.startswith("captions:")]


def _is_run_config(path: Path) -> bool:
    """config.json of a vireid run (a model folder's HF config.json is not one)."""
    try:
        data = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, ValueError):
        return path.is_file()   # unreadable: load_run names it
    return isinstance(data, dict) and "config" in data and "fingerprints" in data


def is_run(path: Path) -> bool:
    """A folder with a vireid config.json, a training log, results or a checkpoint."""
    if (path / "config.json").is_file() and _is_run_config(path / "config.json"):
        return True
    return any((path / name).is_file() for name in RUN_FILES) or any((path / "checkpoints").glob("*.pt"))


def _read_json(path: Path, what: str) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise ReportError(f"{path}: unreadable {what} ({type(exc).__name__}: {str(exc)[:120]})") from None
    if not isinstance(data, dict):
        raise ReportError(f"{path}: {what} is a JSON {type(data).__name__}, not an object")
    return data


def _read_history(path: Path) -> tuple[list[dict[str, Any]], str | None]:
    """Epoch records; a torn last line (a run killed while writing) is dropped and reported."""
    records, torn = [], None
    for number, line in enumerate(path.read_text(errors="replace").splitlines(), 1):
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
        except ValueError:
            torn = f"{path}: line {number} is not JSON (a write cut short?); epochs after it are not shown"
            break
        if isinstance(rec, dict):
            records.append(rec)
    return records, torn


def load_run(path: str | Path, name: str | None = None) -> RunFolder:
    """Read one run folder; a missing piece is recorded in ``missing``, a corrupt JSON file
    is a :class:`ReportError` naming it."""
    path = Path(path)
    run = RunFolder(path=path, name=name or path.resolve().name)
    if (path / "config.json").is_file():
        run.config = _read_json(path / "config.json", "run config")
    else:
        run.missing.append(f"{path / 'config.json'}: no run config (provenance card from results.json only)")
    results = path / "results" / "results.json"
    results = results if results.is_file() else path / "results.json"
    if results.is_file():
        run.record = _read_json(results, "results file")
        if not isinstance(run.record.get("results"), dict) or "settings" not in run.record["results"]:
            raise ReportError(f"{results}: not a vireid results file (no results.settings)")
    else:
        run.missing.append(f"{path / 'results' / 'results.json'}: not evaluated (no protocol table, CMC, "
                           f"breakdown, ranked lists or projection); run `vireid eval` or the pipeline's eval stage")
    log = path / "logs" / "train.jsonl"
    if log.is_file():
        run.history, torn = _read_history(log)
        if torn:
            run.missing.append(torn)
    else:
        run.missing.append(f"{log}: no training log (no loss or gradient-norm curves)")
    run.checkpoints = sorted((path / "checkpoints").glob("*.pt")) if (path / "checkpoints").is_dir() else []
    planned = run.planned_epochs
    if run.history and planned and run.epochs_done < planned:
        run.missing.append(f"training stopped after epoch {run.epochs_done} of {planned} "
                           f"(killed, or still running): curves end there")
    features = path / "results" / "features.npz"
    recorded = (run.record or {}).get("features_file")
    if features.is_file():
        run.features = features
    elif recorded and Path(recorded).is_file():
        run.features = Path(recorded)
    elif run.record is not None:
        run.missing.append(f"{features}: no saved test features (no breakdown, ranked lists or projection)")
    return run


@dataclass
class ReportInputs:
    """The runs of one page, plus the reproduce tables found (``table<N>.json``)."""

    runs: list[RunFolder]
    tables: list[dict[str, Any]] = field(default_factory=list)
    sources: list[Path] = field(default_factory=list)


def collect(paths: list[str | Path]) -> ReportInputs:
    """Each path is a run folder or a folder whose sub-folders are runs (a demo or reproduce
    folder); anything else is one :class:`ReportError` line naming it."""
    if not paths:
        raise ReportError("give at least one run folder or folder of runs")
    inputs = ReportInputs(runs=[])
    seen: set[Path] = set()
    for raw in paths:
        path = Path(raw)
        if not path.is_dir():
            raise ReportError(f"{path}: not a folder (give a run folder or a folder of runs)")
        if path.resolve() in seen:   # the same folder given twice is one run, not two rows
            continue
        seen.add(path.resolve())
        inputs.sources.append(path)
        if is_run(path):
            inputs.runs.append(load_run(path))
            continue
        children = sorted(p for p in path.iterdir() if p.is_dir() and not p.name.startswith((".", "_"))
                          and is_run(p))
        if not children:
            raise ReportError(f"{path}: not a vireid run folder (no config.json, logs/train.jsonl, "
                              f"results/results.json or checkpoints/) and holds no run folders")
        inputs.runs.extend(load_run(child) for child in children)
        for table in sorted(path.glob("table*.json")):
            inputs.tables.append(_read_json(table, "reproduce table"))
    names = [r.name for r in inputs.runs]
    for run in inputs.runs:
        if names.count(run.name) > 1:   # same folder name from two sources: qualify it
            run.name = f"{run.path.parent.name}/{run.name}"
    return inputs
