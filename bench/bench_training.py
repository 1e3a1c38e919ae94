"""Training throughput: the tiny preset on CPU, the data cache, and RN50 on a GPU.

``run(size)`` returns a dict; ``python bench/bench_training.py [short|full]`` prints it and
saves ``bench/results/training[-full].json``.

* cpu_tiny: ``tiny-eees`` (64x32, 4 ids x (4+4) images) trained through the real engine on a
  synthetic SYSU layout; steps/s, images/s and the share of the epoch spent waiting for
  data, measured on the epochs after the first (which includes start-up).
* cache: images/s of JPEG decode + resize (``decode_resized``, one thread and the thread
  pool) against reading the same images from the uint8 memmap cache in training batches.
* gpu_rn50 (only with CUDA): the ``eees`` preset (RN50 two-stem, 288x144, 8 ids x (4+4),
  bf16 autocast, channels_last) on a synthetic SYSU layout rendered at 288x144; target
  >= 1500 images/s on one H100. Random init (speed does not depend on the weights).
"""

from __future__ import annotations

import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
if str(HERE.parent) not in sys.path:
    sys.path.insert(0, str(HERE.parent))

from bench._common import save_result  # noqa: E402

SIZES = {
    "short": {"ids": 60, "cpu_epochs": 3, "cpu_batches": 15, "gpu_ids": 120, "gpu_epochs": 3,
              "gpu_batches": 40},
    "full": {"ids": 120, "cpu_epochs": 4, "cpu_batches": 40, "gpu_ids": 240, "gpu_epochs": 4,
             "gpu_batches": 120},
}


def _synth(root: Path, ids: int, height: int, width: int) -> Path:
    from vireid.datasets.synth import SynthConfig, generate

    return generate(root, "sysu", SynthConfig(ids=ids, images_per_camera=3, height=height,
                                              width=width, seed=0), force=True)


def _train(preset: str, root: Path, out: Path, cache: Path, epochs: int, batches: int,
           extra: list[str]) -> dict[str, Any]:
    from vireid.training.config import resolve_config
    from vireid.training.engine import train

    cfg = resolve_config(preset, overrides=[
        f"data.root={str(root)!r}", "data.captions=['reference']", f"data.cache_dir={str(cache)!r}",
        f"optim.epochs={epochs}", f"sampler.max_batches={batches}", "run.validate_every=0",
        "run.tensorboard=false", "run.progress=false", *extra])
    start = time.perf_counter()
    result = train(cfg, out)
    wall = time.perf_counter() - start
    steady = result.history[1:] or result.history
    secs = sum(r["time/epoch_s"] for r in steady)
    steps = sum(r["steps"] for r in steady)
    images = steps * 2 * cfg.sampler.batch_ids * cfg.sampler.per_modality
    return {
        "preset": preset, "image_size": list(cfg.model.image_size),
        "batch_images": 2 * cfg.sampler.batch_ids * cfg.sampler.per_modality,
        "epochs_measured": len(steady), "steps_measured": steps,
        "steps_per_s": steps / secs, "images_per_s": images / secs,
        "data_share": float(np.average([r["data_share"] for r in steady],
                                       weights=[r["time/epoch_s"] for r in steady])),
        "wall_s_including_setup": wall, "final_loss": result.history[-1]["loss/total"],
    }


def _cache_bench(root: Path, cache_dir: Path, height: int, width: int, workers: int) -> dict[str, Any]:
    from vireid.training.cache import build_cache, decode_resized

    paths = sorted(root.glob("cam*/*/*.jpg"))
    ids = [str(p.relative_to(root)) for p in paths]
    start = time.perf_counter()
    for p in paths:
        decode_resized(p, height, width)
    one_thread = len(paths) / (time.perf_counter() - start)
    start = time.perf_counter()
    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(lambda p: decode_resized(p, height, width), paths))
    threaded = len(paths) / (time.perf_counter() - start)
    cache = build_cache(ids, paths, height, width, cache_dir, workers=workers, progress=False)
    rng = np.random.default_rng(0)
    batches = [rng.integers(0, len(paths), 64) for _ in range(max(20, len(paths) // 64))]
    start = time.perf_counter()
    for rows in batches:
        cache.gather(rows)
    cached = 64 * len(batches) / (time.perf_counter() - start)
    return {"images": len(paths), "size": [height, width],
            "decode_resize_images_per_s_1thread": one_thread,
            f"decode_resize_images_per_s_{workers}threads": threaded,
            "cached_uint8_images_per_s": cached, "speedup_vs_1thread": cached / one_thread}


def run(size: str = "short") -> dict[str, Any]:
    import torch

    p = SIZES[size]
    out: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="vireid-bench-train-") as tmp:
        tmp = Path(tmp)
        root = _synth(tmp / "synth", p["ids"], 128, 64)
        out["cpu_tiny"] = _train("tiny-eees", root, tmp / "run_cpu", tmp / "cache", p["cpu_epochs"],
                                 p["cpu_batches"], ["run.device='cpu'"])
        out["cpu_tiny"]["torch_threads"] = torch.get_num_threads()
        out["cache"] = _cache_bench(root, tmp / "cache_bench", 288, 144, workers=4)
        if torch.cuda.is_available():
            groot = _synth(tmp / "synth_gpu", p["gpu_ids"], 288, 144)
            out["gpu_rn50"] = _train("eees", groot, tmp / "run_gpu", tmp / "cache", p["gpu_epochs"],
                                     p["gpu_batches"], ["model.pretrained='none'", "run.device='cuda'",
                                                        "data.workers=8"])
            out["gpu_rn50"]["gpu"] = torch.cuda.get_device_name(0)
            out["gpu_rn50"]["target_images_per_s_h100"] = 1500
        else:
            out["gpu_rn50"] = {"skipped": "no CUDA device available"}
            print("gpu_rn50: skipped (no CUDA device available)")
    return out


if __name__ == "__main__":
    size = sys.argv[1] if len(sys.argv) > 1 else "short"
    results = run(size)
    results["size"] = size
    import json

    print(json.dumps(results, indent=2))
    print("saved", save_result("training" if size == "short" else "training-full", results))


def headline(results: dict[str, Any]) -> list[dict[str, Any]]:
    """Summary rows for bench/results/SUMMARY.md."""
    cpu, cache = results["cpu_tiny"], results["cache"]
    rows = [
        {"name": f"tiny-eees step, CPU ({cpu['image_size'][0]}x{cpu['image_size'][1]})",
         "value": cpu["images_per_s"], "unit": "images/s", "target": ""},
        {"name": "tiny-eees, time waiting for data", "value": 100 * cpu["data_share"], "unit": "%",
         "target": ""},
        {"name": "JPEG decode + resize to 288x144, 1 thread",
         "value": cache["decode_resize_images_per_s_1thread"], "unit": "images/s", "target": ""},
        {"name": "cached uint8 batch gather (288x144)", "value": cache["cached_uint8_images_per_s"],
         "unit": "images/s", "target": ""},
    ]
    gpu = results["gpu_rn50"]
    if "skipped" in gpu:
        rows.append({"name": "RN50 288x144 eees step on GPU", "value": "skipped", "unit": gpu["skipped"],
                     "target": ">= 1,500 images/s on one H100"})
    else:
        rows += [{"name": f"RN50 288x144 eees step, {gpu['gpu']}", "value": gpu["images_per_s"],
                  "unit": "images/s", "target": ">= 1,500 images/s on one H100"},
                 {"name": "RN50 eees, time waiting for data", "value": 100 * gpu["data_share"],
                  "unit": "%", "target": ""}]
    return rows
