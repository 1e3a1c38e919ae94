"""Where a pipeline run keeps its files.

```
<run>/                          e.g. runs/sysu, runs/regdb-trial3, runs/demo
  manifests/index.parquet       image index (vireid data index)
  manifests/captions/           caption manifest captions.parquet (+ parts/, summary JSON)
  <method>/checkpoints/         last.pt, best.pt, epoch_N.pt
  <method>/logs/                train.csv, train.jsonl, tb/, loss_curve.png
  <method>/results/             results.json, cmc.png, features.npz
  stages/<stage>.json           stage stamps: input fingerprints of the last successful run
```
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class RunLayout:
    root: Path

    @property
    def manifests(self) -> Path:
        return self.root / "manifests"

    @property
    def index(self) -> Path:
        return self.manifests / "index.parquet"

    @property
    def captions_dir(self) -> Path:
        return self.manifests / "captions"

    @property
    def captions(self) -> Path:
        return self.captions_dir / "captions.parquet"

    @property
    def stamps(self) -> Path:
        return self.root / "stages"

    def method_dir(self, method: str) -> Path:
        return self.root / method

    def last_checkpoint(self, method: str) -> Path:
        return self.method_dir(method) / "checkpoints" / "last.pt"

    def best_checkpoint(self, method: str) -> Path:
        return self.method_dir(method) / "checkpoints" / "best.pt"

    def model_checkpoint(self, method: str) -> Path:
        """The checkpoint evaluated for ``method``: best.pt (selected on held-out training ids)
        when validation produced one, else last.pt (the final epoch)."""
        best = self.best_checkpoint(method)
        return best if best.is_file() else self.last_checkpoint(method)

    def results_dir(self, method: str) -> Path:
        return self.method_dir(method) / "results"

    def results(self, method: str) -> Path:
        return self.results_dir(method) / "results.json"


def default_run_dir(dataset: str, trial: int | None = None) -> Path:
    return Path("runs") / (dataset if not trial else f"{dataset}-trial{trial}")
