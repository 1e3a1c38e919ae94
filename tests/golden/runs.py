"""Seeded short CPU runs of every tiny preset whose numbers must survive refactors.

``run_preset`` trains a preset for 2 epochs x 2 batches on the shared synthetic SYSU
benchmark, keeps every step's loss terms, then evaluates ``last.pt`` with the SYSU protocol
(2 gallery trials). Re-record the stored file (after a change meant to alter these numbers,
or under a new dependency set) with one command::

    python -m tests.golden.runs            # or: make golden

It stores the versions it ran under; ``--spread`` re-runs every preset at 1 and 2 CPU threads
and prints the largest relative difference of any loss term, the measurement behind the
tolerance in test_behaviour_preserved.py.
"""

from __future__ import annotations

import argparse
import json
import platform
import tempfile
from pathlib import Path

PRESETS = ["tiny-baseline", "tiny-ise", "tiny-ese", "tiny-ese-cvsc", "tiny-ese-cmsp", "tiny-eees"]
GOLDEN_FILE = Path(__file__).with_name("golden_runs.json")
SYNTH = dict(ids=24, images_per_camera=3, height=64, width=32, seed=0, version=1, test_fraction=0.33)  # frozen benchmark
# Distributions whose kernels, RNGs or decoders feed these numbers.
VERSIONED = ("torch", "numpy", "open_clip_torch", "pillow")


def environment() -> dict[str, str | None]:
    from vireid.fingerprint import library_versions

    return {**library_versions(VERSIONED), "platform": f"{platform.system()}-{platform.machine()}"}


def _overrides(root: Path, cache_dir: Path) -> list[str]:
    return [f"data.root={str(root)!r}", "data.captions=['reference']",
            f"data.cache_dir={str(cache_dir)!r}", "optim.epochs=2", "sampler.max_batches=2",
            "run.progress=false", "run.validate_every=1", "data.workers=1", "run.tensorboard=false",
            "model.pretrained=none"]


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
    single = results["settings"]["all_single"]
    val = {k: float(v) for k, v in result.history[-1].items() if k.startswith("val/")}
    return {"steps": steps, "val": val, "eval_num_query": int(single["num_query"]),
            "eval_all_single": {k: float(single["mean"][k]) for k in ("R1", "mAP", "mINP")}}


def make_benchmark(where: Path) -> Path:
    from vireid.datasets.synth import SynthConfig, generate

    return generate(where, "sysu", SynthConfig(**SYNTH), force=True)


def record(root: Path, cache_dir: Path, work: Path, presets=PRESETS) -> dict:
    return {p: run_preset(p, root, cache_dir, work) for p in presets}


def largest_loss_difference(a: dict, b: dict) -> float:
    """Largest relative difference of any per-step loss term between two recordings."""
    worst = 0.0
    for preset in a:
        for sa, sb in zip(a[preset]["steps"], b[preset]["steps"]):
            for k in sa:
                worst = max(worst, abs(sa[k] - sb[k]) / max(abs(sb[k]), 1e-12))
    return worst


def _record_at(threads: int | None, tmp: Path) -> dict:
    import torch

    if threads:
        torch.set_num_threads(threads)
    root = make_benchmark(tmp / "synth")
    return record(root, tmp / "cache", tmp / f"runs-{threads}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.golden.runs", description=__doc__.split("\n\n")[0])
    parser.add_argument("out", nargs="?", type=Path, default=GOLDEN_FILE, help="file to write (default: the stored one)")
    parser.add_argument("--spread", action="store_true",
                        help="record at 1 and 2 threads and print the largest loss-term difference; write nothing")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        if args.spread:
            one, two = _record_at(1, Path(tmp) / "1"), _record_at(2, Path(tmp) / "2")
            print(f"largest relative loss-term difference, 1 vs 2 threads: {largest_loss_difference(one, two):.3g}")
            if GOLDEN_FILE.is_file():
                stored = json.loads(GOLDEN_FILE.read_text())
                made_with = stored.get("recorded_with", "versions not recorded")
                print(f"largest relative loss-term difference, 2 threads vs stored ({made_with}): "
                      f"{largest_loss_difference(two, stored.get('presets', stored)):.3g}")
            return
        presets = _record_at(None, Path(tmp))
    from vireid.atomic import write_atomic

    text = json.dumps({"recorded_with": environment(), "presets": presets}, indent=1, sort_keys=True) + "\n"
    write_atomic(args.out, lambda tmp_path: tmp_path.write_text(text))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
