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

    def selection(self, method: str) -> str:
        """The identity policy ``method``'s run was trained with (its config.json; "val" if unknown)."""
        import json

        try:
            info = json.loads((self.method_dir(method) / "config.json").read_text())
            return str(info["config"]["run"].get("selection", "val"))
        except (OSError, ValueError, KeyError, TypeError):
            return "val"

    def model_checkpoint(self, method: str, selection: str | None = None) -> Path:
        """The checkpoint evaluated for ``method`` under the identity policy ``selection``
        (default: the one its run was trained with): ``last`` and ``refit`` keep the final
        epoch (last.pt); ``val`` keeps best.pt (selected on held-out training ids) when
        validation produced one, else last.pt."""
        policy = selection or self.selection(method)
        best = self.best_checkpoint(method)
        if policy == "val" and best.is_file():
            return best
        return self.last_checkpoint(method)

    def results_dir(self, method: str) -> Path:
        return self.method_dir(method) / "results"

    def results(self, method: str) -> Path:
        return self.results_dir(method) / "results.json"


def default_run_dir(dataset: str, trial: int | None = None) -> Path:
    return Path("runs") / (dataset if not trial else f"{dataset}-trial{trial}")
