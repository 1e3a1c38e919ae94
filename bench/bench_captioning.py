"""Captioning throughput: batching speed-up on CPU (tiny model) and 7B-shaped LLaVA on GPU.

CPU part: the tiny offline LLaVA captions the same images end to end (loader, generation,
part files, merge) at batch 1 and at larger batches; images/s and the speed-up.
GPU part (CUDA only): a random-weight model with llava-1.5-7b's exact architecture (CLIP
ViT-L/14-336 + Llama-2-7B, vocab 32064), built from its config without any download,
generating exactly 48 new tokens (EOS ignored) in bf16 and NF4 4-bit at batch 1..64.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
if str(HERE.parent) not in sys.path:
    sys.path.insert(0, str(HERE.parent))

from bench._common import save_result  # noqa: E402

NEW_TOKENS = 48


def _images(root: Path, count: int) -> Any:
    import numpy as np
    from PIL import Image

    from vireid.manifests import to_table

    rng = np.random.default_rng(0)
    rows = []
    for i in range(count):
        rel = f"cam1/{i:05d}.jpg"
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(rng.integers(0, 256, (128, 64, 3), dtype=np.uint8)).save(root / rel)
        rows.append({"image_id": f"bench:{rel}", "dataset": "bench", "path": rel,
                     "modality": "visible", "pid": i, "label": i, "camera": 1,
                     "split": "train", "trial": None})
    return to_table(rows, "image-index")


def cpu_part(size: str) -> dict[str, Any]:
    from vireid.captioning.config import CaptionConfig
    from vireid.captioning.model_loading import load_captioner, resolve_model
    from vireid.captioning.runner import run_captioning
    from vireid.captioning.tiny import build_tiny_llava

    count = 48 if size == "short" else 192
    batch_sizes = (1, 16) if size == "short" else (1, 8, 16, 32)
    results: dict[str, Any] = {"images": count, "max_new_tokens": 16, "batch": {}}
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        model_dir = build_tiny_llava(tmp_path / "tiny")
        index = _images(tmp_path / "images", count)
        base = CaptionConfig(model=str(model_dir), quantization="none", device="cpu",
                             max_new_tokens=16, workers=1, flush_every=4)
        captioner = load_captioner(resolve_model(str(model_dir)), "none", device="cpu")
        # Warm-up: first calls pay one-off costs (kernels, tokenizer caches).
        run_captioning(index.slice(0, 4), tmp_path / "images", tmp_path / "warm",
                       base.replace(batch_size=4), progress=False, captioner=captioner,
                       log=lambda m: None)
        for batch_size in batch_sizes:
            start = time.perf_counter()
            run_captioning(index, tmp_path / "images", tmp_path / f"out-{batch_size}",
                           base.replace(batch_size=batch_size), progress=False,
                           captioner=captioner, log=lambda m: None)
            wall = time.perf_counter() - start
            results["batch"][batch_size] = {"wall_s": round(wall, 3),
                                            "images_per_s": round(count / wall, 2)}
    one = results["batch"][1]["images_per_s"]
    best = max(results["batch"], key=lambda b: results["batch"][b]["images_per_s"])
    results["speedup_best_vs_batch1"] = round(results["batch"][best]["images_per_s"] / one, 2)
    results["best_batch"] = best
    return results


def gpu_part(size: str) -> dict[str, Any]:
    import torch
    from PIL import Image

    if not torch.cuda.is_available():
        print("captioning GPU part skipped: CUDA is not available", flush=True)
        return {"skipped": "CUDA not available"}
    from vireid.captioning.data import CaptionImages, collate
    from vireid.captioning.generate import generate_batch
    from vireid.captioning.model_loading import load_captioner, resolve_model
    from vireid.captioning.prompts import DEFAULT_INSTRUCTION, build_prompt
    from vireid.captioning.tiny import build_random_llava

    batch_sizes = (1, 8, 32) if size == "short" else (1, 2, 4, 8, 16, 32, 64)
    generation = {"max_new_tokens": NEW_TOKENS, "min_new_tokens": NEW_TOKENS, "do_sample": False}
    results: dict[str, Any] = {"new_tokens": NEW_TOKENS, "gpu": torch.cuda.get_device_name(0)}
    with tempfile.TemporaryDirectory() as tmp:
        model_dir = build_random_llava(Path(tmp) / "llava-7b-random", "llava-1.5-7b", device="cuda",
                                       dtype=torch.bfloat16)
        torch.cuda.empty_cache()
        image = Path(tmp) / "person.png"
        Image.new("RGB", (64, 128), (120, 80, 40)).save(image)
        for quantization in ("none", "4bit"):
            loaded = load_captioner(resolve_model(str(model_dir)), quantization, "bf16", "cuda")
            prompt = build_prompt(loaded.processor, DEFAULT_INSTRUCTION)
            item = CaptionImages([image], [prompt], loaded.processor)[0]
            label = "bf16" if quantization == "none" else "4bit-nf4"
            results[label] = {}
            for batch_size in batch_sizes:
                batch = collate([item] * batch_size, loaded.processor.tokenizer.pad_token_id)
                try:
                    generate_batch(loaded.model, loaded.processor, batch, generation, loaded.device)
                    torch.cuda.synchronize()
                    start = time.perf_counter()
                    generate_batch(loaded.model, loaded.processor, batch, generation, loaded.device)
                    torch.cuda.synchronize()
                except torch.cuda.OutOfMemoryError:
                    results[label][batch_size] = "out of memory"
                    torch.cuda.empty_cache()
                    break
                wall = time.perf_counter() - start
                results[label][batch_size] = {"images_per_s": round(batch_size / wall, 2),
                                              "tokens_per_s": round(batch_size * NEW_TOKENS / wall, 1),
                                              "peak_mem_gib": round(torch.cuda.max_memory_allocated() / 2**30, 2)}
                print(f"{label} batch {batch_size}: {results[label][batch_size]}", flush=True)
            del loaded
            torch.cuda.empty_cache()
            torch.cuda.reset_peak_memory_stats()
    return results


def run(size: str = "short") -> dict[str, Any]:
    return {"cpu_tiny": cpu_part(size), "gpu_7b_shaped": gpu_part(size)}


if __name__ == "__main__":
    import json

    chosen = sys.argv[1] if len(sys.argv) > 1 else "short"
    result = run(chosen)
    print(json.dumps(result, indent=2))
    print(f"saved {save_result('captioning', result)}")


def headline(results: dict[str, Any]) -> list[dict[str, Any]]:
    """Summary rows for bench/results/SUMMARY.md."""
    cpu = results["cpu_tiny"]
    rows = [{"name": f"tiny LLaVA, CPU, batch {b}", "value": v["images_per_s"], "unit": "images/s",
             "target": ""} for b, v in cpu["batch"].items()]
    rows.append({"name": "batched vs one at a time (CPU, tiny)", "value": cpu["speedup_best_vs_batch1"],
                 "unit": "x", "target": ">= 5x"})
    gpu = results["gpu_7b_shaped"]
    if "skipped" in gpu:
        rows.append({"name": "llava-1.5-7b-shaped on GPU", "value": "skipped", "unit": gpu["skipped"],
                     "target": ">= 30 images/s on one H100"})
    else:
        for label in ("bf16", "4bit-nf4"):
            for batch, value in gpu.get(label, {}).items():
                shown = value["images_per_s"] if isinstance(value, dict) else value
                rows.append({"name": f"llava-1.5-7b-shaped {label}, batch {batch}", "value": shown,
                             "unit": "images/s", "target": ">= 30 images/s on one H100"})
    return rows
