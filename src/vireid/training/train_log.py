"""Run logs: per-epoch CSV + JSONL of every loss term, TensorBoard events, a loss-curve PNG.

Layout under ``<run>/logs/``: ``train.csv``, ``train.jsonl``, ``tb/`` and ``loss_curve.png``.
One record per epoch holds ``epoch`` (1-based), the mean of every loss term, learning rates,
throughput and any validation metrics. On resume the files are rewritten from the history
stored in the checkpoint, so a resumed run's logs equal an uninterrupted run's.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from vireid.atomic import write_atomic


def _columns(records: Sequence[Mapping[str, Any]]) -> list[str]:
    cols: list[str] = []
    for rec in records:
        for key in rec:
            if key not in cols:
                cols.append(key)
    return cols


def write_csv(path: Path, records: Sequence[Mapping[str, Any]]) -> None:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=_columns(records), extrasaction="ignore")
    writer.writeheader()
    for rec in records:
        writer.writerow(dict(rec))
    write_atomic(path, lambda tmp: tmp.write_text(buf.getvalue()))


def write_jsonl(path: Path, records: Sequence[Mapping[str, Any]]) -> None:
    text = "".join(json.dumps(dict(rec), sort_keys=False) + "\n" for rec in records)
    write_atomic(path, lambda tmp: tmp.write_text(text))


def read_jsonl(path: str | Path) -> list[dict[str, Any]]:
    with open(path) as fh:
        return [json.loads(line) for line in fh if line.strip()]


def plot_loss_curve(path: Path, records: Sequence[Mapping[str, Any]]) -> Path | None:
    """Loss terms (``loss/*``) per epoch, one line each, log scale when all are positive."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    keys = [k for k in _columns(records) if k.startswith("loss/")]
    if not records or not keys:
        return None
    fig, ax = plt.subplots(figsize=(7, 4), dpi=110)
    epochs = [rec["epoch"] for rec in records]
    positive = True
    for key in keys:
        values = [rec.get(key, math.nan) for rec in records]
        positive &= all(v > 0 for v in values if v == v)
        ax.plot(epochs, values, marker="o", markersize=3, label=key.removeprefix("loss/"))
    if positive:
        ax.set_yscale("log")
    ax.set_xlabel("epoch")
    ax.set_ylabel("mean loss")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, ncol=2)
    fig.tight_layout()
    write_atomic(path, lambda tmp: fig.savefig(tmp, format="png"))
    plt.close(fig)
    return path


class RunLogger:
    """Collects epoch records and mirrors them to CSV, JSONL and TensorBoard (rank 0 only)."""

    def __init__(self, log_dir: str | Path, history: Sequence[Mapping[str, Any]] = (),
                 tensorboard: bool = True):
        self.log_dir = Path(log_dir)
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self.records: list[dict[str, Any]] = [dict(r) for r in history]
        self._tb = None
        if tensorboard:
            from torch.utils.tensorboard import SummaryWriter

            self._tb = SummaryWriter(str(self.log_dir / "tb"), purge_step=len(self.records) + 1)
        self._flush_files()

    def _flush_files(self) -> None:
        write_csv(self.log_dir / "train.csv", self.records)
        write_jsonl(self.log_dir / "train.jsonl", self.records)

    def log_epoch(self, record: Mapping[str, Any]) -> None:
        rec = dict(record)
        self.records.append(rec)
        self._flush_files()
        if self._tb is not None:
            step = int(rec["epoch"])
            for key, value in rec.items():
                if key != "epoch" and isinstance(value, (int, float)) and not isinstance(value, bool):
                    self._tb.add_scalar(key, value, step)
            self._tb.flush()

    def close(self) -> Path | None:
        if self._tb is not None:
            self._tb.close()
            self._tb = None
        return plot_loss_curve(self.log_dir / "loss_curve.png", self.records)
