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
4. the same gallery written to an embedding file and searched from disk by FAISS IVF-PQ with
   exact re-scoring (``vireid search --index faiss-pq``): in a child process that never holds
   the gallery, the index build time, recall@10 against the exact top-10 per (nprobe, rescore),
   the times of proposing candidates and of the re-scoring pass over the file, and peak resident
   memory (ru_maxrss) after the imports, the build and the searches; then the command itself
   end to end at its defaults, in another child, with its peak resident memory. Target: recall@10
   >= 0.95 with a resident memory far below the gallery's float32 size.

Sizes: ``short`` 100k gallery, 200 queries, tiny network; ``full`` 1M gallery x 1k queries
(float32 gallery: 4 GB, generated in blocks) and the RN50 network.
Run: ``python bench/bench_inference.py [--size short|full] [--only startup,embed,search,search_pq]
[--save NAME]`` (``make bench`` runs every part at the chosen size and saves ``inference[-full]``).
"""

from __future__ import annotations

import argparse
import gc
import json
import os
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
PQ_NPROBES = (1, 4, 8, 16, 32, 64, 128, 256)   # must include DEFAULT_PQ_NPROBE
PQ_RESCORES = (1, 2, 5, 10, 20)     # candidates per result re-scored; must include DEFAULT_RESCORE
STARTUP_COMMANDS = (["--help"], ["eval", "--help"], ["embed", "--help"], ["methods"])


def peak_rss_gib() -> float:
    """This process's peak resident memory. Linux: VmHWM, which starts afresh in a new
    program; ru_maxrss would carry over the parent's peak into a spawned child."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 2**20                          # KiB
    except OSError:
        pass
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


def search_data(cfg: dict, seed: int) -> tuple[np.ndarray, np.ndarray, float]:
    """The clustered gallery and queries of ``cfg`` (the same for every search benchmark)."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((cfg["clusters"], cfg["dim"]), dtype=np.float32)
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    start = time.perf_counter()
    gallery = clustered(rng, centres, cfg["gallery"], noise=0.8)
    queries = clustered(rng, centres, cfg["queries"], noise=0.8)
    return gallery, queries, time.perf_counter() - start


def bench_search(cfg: dict, seed: int = 0) -> dict:
    import faiss

    from vireid.inference.search import DEFAULT_NPROBE, build_ivf, exact_topk, recall_at_k

    gallery, queries, generated = search_data(cfg, seed)
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


def write_features(path: Path, feats: np.ndarray, prefix: str, rows: int = 65536) -> Path:
    """``feats`` as a complete ``vireid embed`` file (paths ``<prefix><row>``), written in
    pieces with bounded row groups, as embed's merge would write a gallery of this size."""
    import pyarrow as pa

    from vireid.manifests import write_manifest_parts

    n, dim = feats.shape

    def pieces():
        for start in range(0, n, rows):
            block = np.ascontiguousarray(feats[start:start + rows])
            m = len(block)
            names = pa.array([f"{prefix}{i:07d}" for i in range(start, start + m)])
            offsets = pa.array(np.arange(0, m * dim + 1, dim, dtype=np.int32))
            yield pa.table({"image_id": names, "path": names, "modality": pa.array(["visible"] * m),
                            "pid": pa.nulls(m, pa.int32()), "camera": pa.nulls(m, pa.int16()),
                            "feature": pa.ListArray.from_arrays(offsets, pa.array(block.reshape(-1))),
                            "error": pa.nulls(m, pa.string())})

    meta = {"complete": True, "dim": dim, "images": n, "checkpoint_sha256": "bench", "feature_options": None}
    return write_manifest_parts(pieces(), path, "embeddings", meta, row_group_rows=16384)


def pq_child(folder: Path) -> dict:
    """The on-disk search's sweep, in a process that never holds the gallery (ru_maxrss is its own)."""
    from vireid.inference.features_file import read_embeddings
    from vireid.inference.search import recall_at_k
    from vireid.inference.search_pq import build_ivfpq, default_pq_nlist, default_train_rows, exact_scores, propose, top_k

    queries, exact = np.load(folder / "queries.npy"), np.load(folder / "exact.npy")
    rss = {"imports": peak_rss_gib()}
    gallery = read_embeddings(folder / "gallery.parquet", features=False)
    rss["gallery_labels"] = peak_rss_gib()
    start = time.perf_counter()
    index = build_ivfpq(gallery)
    build_s = time.perf_counter() - start
    rss["after_build"] = peak_rss_gib()
    sweep, most = [], 10 * max(PQ_RESCORES)
    for nprobe in PQ_NPROBES:
        start = time.perf_counter()
        candidates = propose(index, queries, most, nprobe)
        propose_s = time.perf_counter() - start
        start = time.perf_counter()
        scores = exact_scores(queries, gallery, candidates)
        rescore_s = time.perf_counter() - start
        for factor in PQ_RESCORES:
            _, rows = top_k(scores[:, :10 * factor], candidates[:, :10 * factor], 10)
            sweep.append({"nprobe": nprobe, "rescore": factor, "recall_at_10": recall_at_k(rows, exact),
                          "recall_at_10_pq_order": recall_at_k(candidates[:, :10], exact)})
        sweep[-1].update(propose_s=propose_s, rescore_pass_s=rescore_s, candidates=most)
    rss["after_search"] = peak_rss_gib()
    n, dim = len(gallery.file_rows), gallery.dim
    nlist = default_pq_nlist(n)
    return {"build_s": build_s, "nlist": int(index.nlist), "pq_m": int(index.pq.M), "code_size": int(index.code_size),
            "codes_and_ids_gib": n * (index.code_size + 8) / 2**30,
            "train_sample_gib": min(n, default_train_rows(nlist)) * dim * 4 / 2**30,
            "sweep": sweep, "peak_rss_gib": rss}


def bench_search_pq(cfg: dict, seed: int = 0) -> dict:
    from vireid.inference.search import exact_topk, recall_at_k
    from vireid.inference.search_pq import DEFAULT_PQ_NPROBE, DEFAULT_RESCORE

    gallery, queries, generated = search_data(cfg, seed)
    exact = exact_topk(queries, gallery, 10)
    with tempfile.TemporaryDirectory(prefix="vireid-bench-pq-") as tmp:
        tmp = Path(tmp)
        start = time.perf_counter()
        write_features(tmp / "gallery.parquet", gallery, "g")
        written_s = time.perf_counter() - start
        write_features(tmp / "queries.parquet", queries, "q")
        np.save(tmp / "queries.npy", queries)
        np.save(tmp / "exact.npy", exact.index)
        gallery_gib = gallery.nbytes / 2**30
        del gallery
        gc.collect()
        child = subprocess.run([sys.executable, __file__, "--pq-child", str(tmp)], check=True, capture_output=True,
                               text=True)
        sweep = json.loads(child.stdout)
        # The command itself, end to end at its defaults, in its own process.
        out = tmp / "ranked.parquet"
        code = (f"import json, sys\nsys.path.insert(0, {str(Path(__file__).resolve().parent.parent)!r})\n"
                "from bench.bench_inference import peak_rss_gib\nfrom vireid.cli import main\n"
                f"sys.argv = ['vireid', 'search', '--queries', {str(tmp / 'queries.parquet')!r}, '--gallery', "
                f"{str(tmp / 'gallery.parquet')!r}, '--index', 'faiss-pq', '--top-k', '10', '--out', {str(out)!r}]\n"
                "try:\n    main()\nexcept SystemExit as exc:\n    assert not exc.code, exc.code\n"
                "print(json.dumps({'maxrss_gib': peak_rss_gib()}), file=sys.stderr)\n")
        start = time.perf_counter()
        run = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
        wall = time.perf_counter() - start
        import pyarrow.parquet as pq

        ranked = pq.read_table(out)
        meta = json.loads(ranked.schema.metadata[b"vireid.metadata"])
        rows = np.array([int(p[1:]) for p in ranked.column("gallery").to_pylist()]).reshape(len(queries), 10)
        command = {"wall_s": wall, "build_s": meta["build_s"], "search_s": meta["search_s"], "params": meta["params"],
                   "recall_at_10": recall_at_k(rows, exact.index),
                   "peak_rss_gib": json.loads(run.stderr.strip().splitlines()[-1])["maxrss_gib"]}
    chosen = next(r for r in sweep["sweep"] if r["nprobe"] == DEFAULT_PQ_NPROBE and r["rescore"] == DEFAULT_RESCORE)
    return {"gallery": cfg["gallery"], "queries": cfg["queries"], "dim": cfg["dim"], "clusters": cfg["clusters"],
            "noise": 0.8, "seed": seed, "generate_s": generated, "exact_s": exact.search_s,
            "write_gallery_file_s": written_s, "gallery_float32_gib": gallery_gib, **sweep, "chosen": chosen,
            "command": command}


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
            "workers": 2, "feature": model.feature_options.record(), "bare_forward_s": bare_s,
            "embed_s": embed_s, "ratio": embed_s / bare_s, "embed_img_per_s": len(images) / embed_s,
            "bare_img_per_s": len(images) / bare_s, "torch_threads": torch.get_num_threads()}


def run(size: str = "short", only: tuple[str, ...] = ("startup", "embed", "search", "search_pq")) -> dict:
    cfg = SIZES[size]
    out: dict = {"config": cfg, "notes": [], "load_average_at_start": os.getloadavg()}
    if "startup" in only:
        out["startup"] = bench_startup(cfg["repeats"])
    if "embed" in only:
        out["embed"] = bench_embed(cfg)
    if "search" in only:
        out["search"] = bench_search(cfg)
        gc.collect()
    if "search_pq" in only:
        out["search_pq"] = bench_search_pq(cfg)
    out["load_average_at_end"] = os.getloadavg()
    # The machine is shared: the 1-minute load says how contended the times above are.
    out["notes"].append(f"{', '.join(only)} on {os.cpu_count()} CPU cores; 1-minute load average "
                        f"{out['load_average_at_start'][0]:.1f} at the start, {out['load_average_at_end'][0]:.1f} at the end")
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
    if "search_pq" in results:
        s = results["search_pq"]
        c, cmd = s["chosen"], s["command"]
        shape = f"{s['queries']:,} x {s['gallery']:,} x {s['dim']}"
        setting = f"nprobe {cmd['params']['nprobe']}, rescore {cmd['params']['rescore']}"
        rows += [{"name": f"faiss-pq build from disk (nlist {s['nlist']}, m {s['pq_m']}), {shape}",
                  "value": s["build_s"], "unit": "s", "target": ""},
                 {"name": f"faiss-pq recall@10 with exact re-scoring, {setting} (sweep)", "value": c["recall_at_10"],
                  "unit": "", "target": ">= 0.95"},
                 {"name": f"faiss-pq recall@10 without re-scoring, nprobe {c['nprobe']}",
                  "value": c["recall_at_10_pq_order"], "unit": "", "target": ""},
                 {"name": f"vireid search --index faiss-pq ({setting}): recall@10", "value": cmd["recall_at_10"],
                  "unit": "", "target": ">= 0.95"},
                 {"name": "vireid search --index faiss-pq: build", "value": cmd["build_s"], "unit": "s", "target": ""},
                 {"name": "vireid search --index faiss-pq: search incl. re-scoring pass over the file",
                  "value": cmd["search_s"], "unit": "s", "target": ""},
                 {"name": "vireid search --index faiss-pq: wall (process start to exit)", "value": cmd["wall_s"],
                  "unit": "s", "target": ""},
                 {"name": "vireid search --index faiss-pq: peak RSS", "value": cmd["peak_rss_gib"], "unit": "GiB",
                  "target": f"<< gallery float32 {s['gallery_float32_gib']:.2f} GiB"},
                 {"name": "PQ codes + ids in the index", "value": s["codes_and_ids_gib"], "unit": "GiB", "target": ""}]
    return rows


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=tuple(SIZES), default="short")
    parser.add_argument("--only", default="startup,embed,search,search_pq")
    parser.add_argument("--save", metavar="NAME", help="save as bench/results/NAME.json and regenerate SUMMARY.md "
                                                       "(a part run alone, e.g. --size full --only search_pq)")
    parser.add_argument("--pq-child", type=Path, help=argparse.SUPPRESS)   # bench_search_pq's child process
    args = parser.parse_args()
    if args.pq_child:
        print(json.dumps(pq_child(args.pq_child)))
        sys.exit(0)
    result = run(args.size, tuple(args.only.split(",")))
    result["size"] = args.size
    result["headline"] = headline(result)
    if args.save:
        from bench._common import save_result
        from bench.summary import write_summary

        print(f"-> {save_result(args.save, result)}; {write_summary(Path(__file__).resolve().parent / 'results')}")
    else:
        print(json.dumps(result, indent=1, default=str))
