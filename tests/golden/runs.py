"""Seeded short CPU runs of every tiny preset whose numbers must survive refactors.

``record(root, cache_dir, work)`` trains each preset for 2 epochs x 2 batches on the shared
synthetic SYSU benchmark, keeps every step's loss terms, then evaluates ``last.pt`` with the
SYSU protocol (2 gallery trials). ``python -m tests.golden.runs OUT.json`` writes them;
tests/golden/test_behaviour_preserved.py compares a fresh run against the stored file.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

PRESETS = ["tiny-baseline", "tiny-ise", "tiny-ese", "tiny-ese-cvsc", "tiny-ese-cmsp", "tiny-eees"]
GOLDEN_FILE = Path(__file__).with_name("golden_runs.json")
SYNTH = dict(ids=24, images_per_camera=3, height=64, width=32, seed=0, version=1)  # frozen benchmark


def _overrides(root: Path, cache_dir: Path) -> list[str]:
    return [f"data.root={str(root)!r}", "data.captions=['reference']",
            f"data.cache_dir={str(cache_dir)!r}", "optim.epochs=2", "sampler.max_batches=2",
            "run.progress=false", "run.validate_every=1", "data.workers=1", "run.tensorboard=false"]


def run_preset(preset: str, root: Path, cache_dir: Path, work: Path) -> dict:
    from vireid.evaluation.checkpoint import evaluate_checkpoint
    from vireid.training.config import resolve_config
    from vireid.training.engine import Trainer

    cfg = resolve_config(preset, overrides=_overrides(root, cache_dir) + ["eees.prompt.epochs=1"])
    steps: list[dict[str, float]] = []
    account = Trainer._account

    def recording(self, epoch, step, names, values):
        terms = account(self, epoch, step, names, values)
        steps.append({k: float(v) for k, v in terms.items()})
        return terms

    Trainer._account = recording
    try:
        result = Trainer(cfg, work / preset).fit()
    finally:
        Trainer._account = account
    results, _ = evaluate_checkpoint(result.last, "sysu", root, trials=2)
    single = results["settings"]["all_single"]["mean"]
    val = {k: float(v) for k, v in result.history[-1].items() if k.startswith("val/")}
    return {"steps": steps, "val": val, "eval_all_single": {k: float(single[k]) for k in ("R1", "mAP", "mINP")}}


def make_benchmark(where: Path) -> Path:
    from vireid.datasets.synth import SynthConfig, generate

    return generate(where, "sysu", SynthConfig(**SYNTH), force=True)


def record(root: Path, cache_dir: Path, work: Path, presets=PRESETS) -> dict:
    return {p: run_preset(p, root, cache_dir, work) for p in presets}


if __name__ == "__main__":
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else GOLDEN_FILE
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        root = make_benchmark(tmp / "synth")
        data = record(root, tmp / "cache", tmp / "runs")
    out.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n")
    print(f"wrote {out}")
