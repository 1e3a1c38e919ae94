"""Inference benchmark (issue 27): CLI start-up, embedding throughput, exact vs FAISS search.

``run(size)`` measures
1. start-up of ``vireid --help``, ``vireid eval --help``, ``vireid embed --help`` and ``vireid
   methods`` as fresh processes, ``repeats`` runs each (median and max; target < 0.5 s);
2. ``vireid embed``'s whole path (listing, DataLoader decoding with 2 workers, part files,
   merge) against the bare model forward (``ReIDModel.embed_batch``) on the same images,
   pre-decoded in memory, same batches, best of 2 alternating runs each; a random-init network (weights do not change the
   arithmetic), SYSU-synthetic images; target: embed within 1.3x of the bare forward;
3. top-10 search of ``queries`` x ``gallery`` clustered unit features (1,024-d, the projected
   feature's size; ``clusters`` centres, each row a centre plus noise, so every query has
   true neighbours and recall means something): the exact blocked search vs FAISS IVF-Flat
   (index build time, search time per nprobe, recall@10 against the exact top-10), and the
   peak resident memory (ru_maxrss) after each. Target: recall@10 >= 0.95 at >= 10x the exact
   search's speed.

Sizes: ``short`` 100k gallery, 200 queries, tiny network; ``full`` 1M gallery x 1k queries
(float32 gallery: 4 GB, generated in blocks) and the RN50 network.
Run: ``python bench/bench_inference.py [--size short|full] [--only startup,embed,search]``.
"""

from __future__ import annotations

import argparse
import gc
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

SIZES = {
    "short": {"gallery": 100_000, "queries": 200, "clusters": 1_000, "dim": 1024, "repeats": 5,
              "embed_images": 256, "model": "tiny"},
    "full": {"gallery": 1_000_000, "queries": 1_000, "clusters": 10_000, "dim": 1024, "repeats": 10,
             "embed_images": 128, "model": "RN50"},
}
NPROBES = (1, 2, 4, 8, 16, 32, 64)   # must include vireid's DEFAULT_NPROBE (the headline row)
STARTUP_COMMANDS = (["--help"], ["eval", "--help"], ["embed", "--help"], ["methods"])


def peak_rss_gib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20   # Linux: KiB


def bench_startup(repeats: int) -> dict:
    """Wall time and CPU time (user + sys of the child) per command; on a shared machine the
    CPU time is what the command itself costs, the wall time includes waiting for a core."""
    out = {}
    for args in STARTUP_COMMANDS:
        times, cpu = [], []
        for _ in range(repeats):
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            start = time.perf_counter()
            subprocess.run([sys.executable, "-m", "vireid.cli", *args], check=True, capture_output=True)
            times.append(time.perf_counter() - start)
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
        out["vireid " + " ".join(args)] = {"median_s": statistics.median(times), "max_s": max(times),
                                           "median_cpu_s": statistics.median(cpu), "runs": repeats}
    return out


def clustered(rng: np.random.Generator, centres: np.ndarray, n: int, noise: float, block: int = 100_000) -> np.ndarray:
    """``n`` unit rows, each a random centre plus ``noise`` times a random unit vector."""
    out = np.empty((n, centres.shape[1]), dtype=np.float32)
    for start in range(0, n, block):
        m = min(block, n - start)
        x = rng.standard_normal((m, centres.shape[1]), dtype=np.float32)
        x *= noise / np.linalg.norm(x, axis=1, keepdims=True)
        x += centres[rng.integers(len(centres), size=m)]
        x /= np.linalg.norm(x, axis=1, keepdims=True)
        out[start:start + m] = x
    return out


def bench_search(cfg: dict, seed: int = 0) -> dict:
    import faiss

    from vireid.inference.search import DEFAULT_NPROBE, build_ivf, exact_topk, recall_at_k

    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((cfg["clusters"], cfg["dim"]), dtype=np.float32)
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    start = time.perf_counter()
    gallery = clustered(rng, centres, cfg["gallery"], noise=0.8)
    queries = clustered(rng, centres, cfg["queries"], noise=0.8)
    generated = time.perf_counter() - start
    rss_data = peak_rss_gib()
    start = time.perf_counter()
    exact = exact_topk(queries, gallery, 10)
    exact_s = time.perf_counter() - start
    rss_exact = peak_rss_gib()
    start = time.perf_counter()
    index = build_ivf(gallery, seed=seed)
    build_s = time.perf_counter() - start
    rss_faiss = peak_rss_gib()
    sweep = []
    for nprobe in NPROBES:
        index.nprobe = nprobe
        start = time.perf_counter()
        _, rows = index.search(queries, 10)
        took = time.perf_counter() - start
        sweep.append({"nprobe": nprobe, "search_s": took, "recall_at_10": recall_at_k(rows, exact.index),
                      "speedup_vs_exact": exact_s / took})
    chosen = next(r for r in sweep if r["nprobe"] == DEFAULT_NPROBE)
    return {"gallery": cfg["gallery"], "queries": cfg["queries"], "dim": cfg["dim"], "clusters": cfg["clusters"],
            "noise": 0.8, "seed": seed, "generate_s": generated, "exact_s": exact_s,
            "exact_block_size": exact.params["block_size"], "faiss_index": "IndexIVFFlat, inner product",
            "nlist": int(index.nlist), "faiss_build_s": build_s, "faiss_threads": faiss.omp_get_max_threads(),
            "sweep": sweep, "chosen": chosen, "peak_rss_gib": {"data": rss_data, "after_exact": rss_exact,
                                                               "after_faiss_build": rss_faiss}}


def bench_embed(cfg: dict, seed: int = 0) -> dict:
    import torch

    import vireid
    from vireid.datasets.synth import SynthConfig, generate
    from vireid.inference.embed import embed_images
    from vireid.inference.sources import read_source
    from vireid.models import TINY_MODEL_NAME, ModelConfig, build_model
    from vireid.models.store import model_checkpoint_state, save_checkpoint

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        torch.manual_seed(seed)
        size = (288, 144) if cfg["model"] == "RN50" else (64, 32)
        model_cfg = ModelConfig(name=cfg["model"] if cfg["model"] == "RN50" else TINY_MODEL_NAME, pretrained="none",
                                image_size=size)
        net = build_model(model_cfg, num_classes=10)
        ckpt = save_checkpoint(tmp / "random.pt", {**model_checkpoint_state(net), "epoch": 0})
        root = generate(tmp / "synth", "sysu", SynthConfig(ids=24, images_per_camera=4, seed=seed), force=True)
        images = sorted(p.relative_to(root).as_posix() for p in root.glob("cam[36]/*/*.jpg"))
        images = (images * (cfg["embed_images"] // len(images) + 1))[:cfg["embed_images"]]
        listing = tmp / "images.txt"
        # Repeated files get distinct names through their folder, so every row is its own image.
        for k, rel in enumerate(images):
            target = tmp / "imgs" / f"{k:05d}.jpg"
            target.parent.mkdir(exist_ok=True)
            target.write_bytes((root / rel).read_bytes())
        listing.write_text("\n".join(f"imgs/{k:05d}.jpg" for k in range(len(images))))
        model = vireid.load(ckpt)
        batch = 64
        source = read_source(listing, modality="infrared")
        inputs = [torch.stack([model.preprocess(tmp / r.path) for r in source.rows[i:i + batch]])
                  for i in range(0, len(source.rows), batch)]
        model.embed_batch(inputs[0], "infrared")                      # warm-up
        # Alternating runs, best of each: on a shared machine the load drifts between runs.
        bare_s = embed_s = float("inf")
        for attempt in range(2):
            start = time.perf_counter()
            for x in inputs:
                model.embed_batch(x, "infrared")
            bare_s = min(bare_s, time.perf_counter() - start)
            out = tmp / f"feats{attempt}.parquet"
            start = time.perf_counter()
            result = embed_images(model, source, out, batch_size=batch, num_workers=2, progress=False)
            embed_s = min(embed_s, time.perf_counter() - start)
            assert result.merged and result.failed == 0
    return {"model": cfg["model"], "image_size": list(size), "images": len(images), "batch_size": batch,
            "workers": 2, "feature": model.feature_options.to_dict(), "bare_forward_s": bare_s,
            "embed_s": embed_s, "ratio": embed_s / bare_s, "embed_img_per_s": len(images) / embed_s,
            "bare_img_per_s": len(images) / bare_s, "torch_threads": torch.get_num_threads()}


def run(size: str = "short", only: tuple[str, ...] = ("startup", "embed", "search")) -> dict:
    cfg = SIZES[size]
    out: dict = {"config": cfg, "notes": []}
    if "startup" in only:
        out["startup"] = bench_startup(cfg["repeats"])
    if "embed" in only:
        out["embed"] = bench_embed(cfg)
    if "search" in only:
        out["search"] = bench_search(cfg)
        gc.collect()
    return out


def headline(results: dict) -> list[dict]:
    rows = []
    for name, entry in (results.get("startup") or {}).items():
        rows.append({"name": f"{name} (median of {entry['runs']}), wall", "value": entry["median_s"], "unit": "s",
                     "target": "< 0.5"})
        if "median_cpu_s" in entry:
            rows.append({"name": f"{name}, CPU time (user + sys)", "value": entry["median_cpu_s"], "unit": "s",
                         "target": ""})
    if "embed" in results:
        e = results["embed"]
        rows.append({"name": f"embed / bare forward ({e['model']}, {e['images']} images, batch {e['batch_size']})",
                     "value": e["ratio"], "unit": "x", "target": "<= 1.3"})
        rows.append({"name": "embed throughput", "value": e["embed_img_per_s"], "unit": "img/s", "target": ""})
    if "search" in results:
        s = results["search"]
        c = s["chosen"]
        shape = f"{s['queries']:,} x {s['gallery']:,} x {s['dim']}"
        rows += [{"name": f"exact top-10, {shape}", "value": s["exact_s"], "unit": "s", "target": ""},
                 {"name": f"FAISS IVF-Flat build (nlist {s['nlist']})", "value": s["faiss_build_s"], "unit": "s",
                  "target": ""},
                 {"name": f"FAISS search, nprobe {c['nprobe']}", "value": c["search_s"], "unit": "s", "target": ""},
                 {"name": f"FAISS recall@10, nprobe {c['nprobe']}", "value": c["recall_at_10"], "unit": "",
                  "target": ">= 0.95"},
                 {"name": f"FAISS speed-up over exact, nprobe {c['nprobe']}", "value": c["speedup_vs_exact"],
                  "unit": "x", "target": ">= 10"},
                 {"name": "peak RSS after FAISS build", "value": s["peak_rss_gib"]["after_faiss_build"],
                  "unit": "GiB", "target": "< 24"}]
    return rows


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=tuple(SIZES), default="short")
    parser.add_argument("--only", default="startup,embed,search")
    args = parser.parse_args()
    result = run(args.size, tuple(args.only.split(",")))
    result["headline"] = headline(result)
    print(json.dumps(result, indent=1, default=str))
