"""`make bench`: run every stage's benchmark, save JSON under bench/results/, regenerate SUMMARY.md.

Usage: python bench/run.py [--size short|full] [--only evaluation,captioning,training]

Each benchmark module exposes ``run(size) -> dict`` and reuses the package's own functions;
GPU parts run where CUDA is present and are skipped with a message otherwise.
"""

from __future__ import annotations

import argparse
import importlib
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from bench._common import save_result  # noqa: E402
from bench.summary import write_summary  # noqa: E402

BENCHMARKS = ("evaluation", "rerank", "captioning", "training", "inference")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=("short", "full"), default="short")
    parser.add_argument("--only", default=",".join(BENCHMARKS),
                        help="comma-separated subset of: " + ", ".join(BENCHMARKS))
    args = parser.parse_args(argv)
    names = [n.strip() for n in args.only.split(",") if n.strip()]
    unknown = sorted(set(names) - set(BENCHMARKS))
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(unknown)}")
    for name in names:
        module = importlib.import_module(f"bench.bench_{name}")
        print(f"== {name} ({args.size}) ==", flush=True)
        start = time.perf_counter()
        results = module.run(args.size)
        results["size"] = args.size
        if hasattr(module, "headline"):
            results["headline"] = module.headline(results)
        path = save_result(name if args.size == "short" else f"{name}-full", results)
        print(f"== {name}: {time.perf_counter() - start:.1f} s -> {path.relative_to(HERE.parent)}")
    summary = write_summary(HERE / "results")
    print(f"summary -> {summary.relative_to(HERE.parent)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
