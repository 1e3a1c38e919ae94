"""How precisely the tiny benchmark resolves a difference: R1/mAP std over training seeds.

Trains one tiny preset (default tiny-baseline) for several seeds on two synthetic SYSU
benchmarks that differ only in their test split (the earlier default, 60 ids of which 20
test; the SYSU-like default, 136 ids of which 95 test; both 41/40 training ids), evaluates
each with the full SYSU protocol (10 gallery trials), and writes the per-seed numbers, the
mean and the sample std to bench/results/precision.json.

    python bench/bench_precision.py [--seeds 4] [--preset tiny-baseline] [--set KEY=VALUE ...]

This is a long measurement (one tiny training per seed and benchmark); it is not part of
`make bench`'s short run.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from bench._common import save_result  # noqa: E402

BENCHMARKS = {
    "before (60 ids, 20 test)": dict(ids=60, test_fraction=0.33),
    "after (136 ids, 95 test)": dict(ids=136, test_fraction=0.7),
}
SETTING = "all_single"


def measure(preset: str, seeds: int, overrides: list[str], work: Path) -> dict:
    from vireid.datasets.synth import SynthConfig, generate
    from vireid.evaluation.checkpoint import evaluate_checkpoint
    from vireid.training.config import resolve_config
    from vireid.training.engine import train

    out = {}
    for name, sizes in BENCHMARKS.items():
        root = generate(work / f"synth-{sizes['ids']}", "sysu", SynthConfig(**sizes), force=True)
        runs = []
        for seed in range(seeds):
            start = time.perf_counter()
            cfg = resolve_config(preset, overrides=[f"data.root={str(root)!r}", "data.captions=['reference']",
                                                    f"run.seed={seed}", "run.progress=false",
                                                    "run.tensorboard=false", *overrides])
            result = train(cfg, work / f"run-{sizes['ids']}-{seed}")
            checkpoint = result.best or result.last
            results, _ = evaluate_checkpoint(checkpoint, "sysu", root, trials=10)
            s = results["settings"][SETTING]
            runs.append({"seed": seed, "R1": 100 * s["mean"]["R1"], "mAP": 100 * s["mean"]["mAP"],
                         "chance": {k: 100 * v for k, v in s["chance"].items()}, "num_query": s["num_query"],
                         "seconds": round(time.perf_counter() - start, 1), "checkpoint": str(checkpoint)})
            print(f"{name} seed {seed}: R1 {runs[-1]['R1']:.1f} mAP {runs[-1]['mAP']:.1f} "
                  f"({runs[-1]['seconds']:.0f} s)", flush=True)
        out[name] = {"synth": sizes, "runs": runs, **{
            m: {"mean": statistics.mean(r[m] for r in runs),
                "std": statistics.stdev(r[m] for r in runs) if len(runs) > 1 else 0.0} for m in ("R1", "mAP")}}
    return out


def headline(data: dict) -> list[dict]:
    """The summary rows (bench/summary.py): R1 mean and seed std, and chance, per benchmark."""
    rows = []
    for name, d in data.items():
        chance = d["runs"][0]["chance"]["R1"]
        rows += [{"name": f"{name}: R1 mean", "value": d["R1"]["mean"], "unit": "%", "target": ""},
                 {"name": f"{name}: R1 std over seeds", "value": d["R1"]["std"], "unit": "points", "target": ""},
                 {"name": f"{name}: chance R1", "value": chance, "unit": "%", "target": ""}]
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=4)
    parser.add_argument("--preset", default="tiny-baseline")
    parser.add_argument("--set", dest="overrides", action="append", default=[])
    parser.add_argument("--name", default="precision")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="vireid-precision-") as tmp:
        data = measure(args.preset, args.seeds, args.overrides, Path(tmp))
    info = {"size": "long", "preset": args.preset, "seeds": args.seeds, "overrides": args.overrides, "setting":
            "SYSU all-search single-shot, 10 gallery trials, test feature concat, flip (evaluate_checkpoint defaults); "
            "checkpoint best.pt on held-out training ids where written, else last.pt", "benchmarks": data,
            "headline": headline(data)}
    path = save_result(args.name, info)
    for name, d in data.items():
        print(f"{name}: R1 {d['R1']['mean']:.1f} ± {d['R1']['std']:.1f}, mAP {d['mAP']['mean']:.1f} ± "
              f"{d['mAP']['std']:.1f} over {args.seeds} seeds")
    print(f"written: {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
