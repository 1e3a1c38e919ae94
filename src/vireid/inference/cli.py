"""``vireid embed``, ``vireid search`` and ``vireid export``: a trained model on your own images.

Only option names live here; torch, FAISS, onnxruntime and the image decoders are imported
inside the commands, so ``vireid --help`` stays fast.
"""

from __future__ import annotations

from pathlib import Path

import typer

from vireid.errors import VireidError, set_resume_hint

EMBED_HELP = """Embed images with a trained checkpoint into one Parquet file (one row per image).

--images takes a folder (every image under it), a .txt list (one path per line) or a .parquet table with a path column (an image index: its modality, pid and camera columns are kept; --split and --modality select rows). Features are the checkpoint's own test features (as `vireid eval` extracts them, unit L2 norm); the file records each image's path, the checkpoint sha256 and the feature options. An unreadable image is a row with an error, never a crash.

Resumable: results go to FEATS.parquet.work/parts/ every --flush-every batches; re-running the same command continues after the last part. Sharded: run --num-shards N --shard-index K in N processes; the last one to finish merges.
"""

SEARCH_HELP = """Rank gallery features for every query feature (files from `vireid embed`), top-k by cosine similarity.

Which --index: exact (default) when the search is one-off or the gallery is small: exact scores, blocked matrix products (memory: the gallery in RAM plus --block-size rows of scores at a time). faiss (IVF-Flat) when the gallery fits in RAM (4 bytes x dim a row, 4 GiB for 1M x 1024) and queries are many: it visits --nprobe of --nlist cells per query, scores exact for what it visits. faiss-pq (IVF-PQ) when the gallery does not fit in RAM: the gallery file is read in blocks of --block-size rows (never whole), the index keeps --pq-m bytes + an 8-byte id a row (72 bytes at the default 64), and each query's top-k x --rescore candidates are re-scored exactly from the file, so every score is exact and a neighbour is missed only if it was not a candidate. FAISS indexes are built for each search (not saved); bench/results/SUMMARY.md has their measured build and search times, recall and peak memory.

Both files must come from the same checkpoint and feature options. Writes one row per (query, rank): query, query_pid, rank, gallery, gallery_pid, score, match; --sheet draws a contact sheet.
"""

EXPORT_HELP = """Export the inference network as ONNX or TorchScript, one graph per modality, and check it.

Writes OUT/visible.onnx and OUT/infrared.onnx (or .pt) with a dynamic batch size, and OUT/preprocessing.json (image size, mean/std, interpolation, feature options, which graph serves which modality). Then runs every graph on a batch (--check-images, else seeded noise) and prints its largest absolute difference from PyTorch with the tolerance it must hold; exit 1 if it does not.
"""


def _load(checkpoint: Path, device: str, feature: str | None, flip: str | None, interpolation: str | None):
    from vireid.inference.api import load

    return load(checkpoint, device, feature=feature, flip=flip, interpolation=interpolation)


def embed_command(
    checkpoint: Path = typer.Option(..., "--checkpoint", help="Trained vireid checkpoint (.pt)."),
    images: Path = typer.Option(..., "--images", help="A folder of images, a .txt list of paths, or a .parquet table with a path column."),
    out: Path = typer.Option(..., "--out", help="Output Parquet file (FEATS.parquet)."),
    modality: str = typer.Option(None, "--modality", help="visible | infrared: every image's modality (folder, list), or the rows to take from a Parquet table with a modality column."),
    split: str = typer.Option(None, "--split", help="Parquet image index only: the rows of this split (train | val | test)."),
    root: Path = typer.Option(None, "--root", help="Folder that relative paths of a list or table start from (default: the list's folder)."),
    batch_size: int = typer.Option(64, "--batch-size", min=1, help="Images per forward pass."),
    workers: int = typer.Option(2, "--workers", min=0, help="DataLoader worker processes decoding images."),
    device: str = typer.Option("cpu", "--device", help="torch device, e.g. cpu or cuda:0 (bfloat16 autocast on CUDA)."),
    num_shards: int = typer.Option(1, "--num-shards", min=1, help="Split the images into N shards (one process each)."),
    shard_index: int = typer.Option(0, "--shard-index", min=0, help="The shard this process embeds (0..N-1)."),
    flush_every: int = typer.Option(20, "--flush-every", min=1, help="Write a part file every N batches (what a kill can lose)."),
    feature: str = typer.Option(None, "--feature", help="Override the checkpoint's feature kind: pooled | bn | proj | concat."),
    flip: str = typer.Option(None, "--flip", help="Override the checkpoint's flip TTA: none | mean | concat."),
    interpolation: str = typer.Option(None, "--interpolation", help="Override the checkpoint's resizing: bicubic | bilinear."),
) -> None:
    from vireid.inference.embed import embed_images
    from vireid.inference.sources import read_source

    source = read_source(images, root=root, modality=modality, split=split)
    model = _load(checkpoint, device, feature, flip, interpolation)
    set_resume_hint("re-run the same command to resume")
    result = embed_images(model, source, out, batch_size=batch_size, num_workers=workers,
                          shard_index=shard_index, num_shards=num_shards, flush_every=flush_every,
                          on_merge=typer.echo)
    set_resume_hint(None)
    opts = model.feature_options
    typer.echo(f"embedded {result.embedded} images ({result.failed} unreadable) in {result.seconds:.1f} s; "
               f"checkpoint {model.fingerprint[:12]}, feature {opts.feature}, flip {opts.flip}, "
               f"{opts.interpolation}, dim {model.dim}")
    if not result.merged:
        typer.echo(f"shard {shard_index} of {num_shards} done; {result.missing} images of other shards still "
                   f"missing: {out} is written when the last shard finishes")


def search_command(
    queries: Path = typer.Option(..., "--queries", help="Query features (.parquet from vireid embed)."),
    gallery: Path = typer.Option(..., "--gallery", help="Gallery features (.parquet from vireid embed)."),
    out: Path = typer.Option(..., "--out", help="Ranked lists (.parquet)."),
    top_k: int = typer.Option(10, "--top-k", min=1, help="Results per query."),
    index: str = typer.Option("exact", "--index", help="exact | faiss (IVF-Flat, gallery in RAM) | faiss-pq (IVF-PQ, gallery read from disk, candidates re-scored exactly)."),
    block_size: int = typer.Option(None, "--block-size", min=1, help="exact: gallery rows scored at once (default 65536; memory: 1024 queries x this x 4 bytes); faiss-pq: gallery rows read from disk at once (default 1024)."),
    device: str = typer.Option("cpu", "--device", help="Exact: torch device for the matrix products."),
    nlist: int = typer.Option(None, "--nlist", min=1, help="FAISS: k-means cells (default: 4 sqrt(gallery size) for faiss, sqrt(gallery size) for faiss-pq)."),
    nprobe: int = typer.Option(None, "--nprobe", min=1, help="FAISS: cells visited per query (default: 4 for faiss, 128 for faiss-pq)."),
    pq_m: int = typer.Option(64, "--pq-m", min=1, help="faiss-pq: bytes of code per gallery row (sub-quantisers; must divide the feature dimension)."),
    rescore: int = typer.Option(10, "--rescore", min=1, help="faiss-pq: candidates per result re-scored exactly (top-k x this per query)."),
    sheet: Path = typer.Option(None, "--sheet", help="Also draw a contact sheet (.png): queries and their top-k."),
    sheet_queries: int = typer.Option(8, "--sheet-queries", min=1, help="Queries on the sheet (evenly spaced)."),
) -> None:
    from vireid.fingerprint import provenance
    from vireid.inference.features_file import check_comparable, read_embeddings
    from vireid.inference.ranked import draw_sheet, ranked_table, write_ranked
    from vireid.inference.search import DEFAULT_BLOCK, DEFAULT_NPROBE, exact_topk, faiss_topk
    from vireid.inference.search_pq import DEFAULT_PQ_NPROBE, DEFAULT_READ_BLOCK, faiss_pq_topk

    if index not in ("exact", "faiss", "faiss-pq"):
        raise VireidError(f"--index must be exact, faiss or faiss-pq, got {index!r}")
    if out.is_dir():
        raise VireidError(f"{out}: --out is a folder; give a file name, e.g. {out / 'ranked.parquet'}")
    q, g = read_embeddings(queries), read_embeddings(gallery, features=index != "faiss-pq")
    check_comparable(q, g)
    if index == "exact":
        result = exact_topk(q.feats, g.feats, top_k, block_size=block_size or DEFAULT_BLOCK, device=device)
    elif index == "faiss":
        result = faiss_topk(q.feats, g.feats, top_k, nlist=nlist, nprobe=nprobe or DEFAULT_NPROBE)
    else:
        result = faiss_pq_topk(q.feats, g, top_k, nlist=nlist, nprobe=nprobe or DEFAULT_PQ_NPROBE, m=pq_m,
                               rescore_factor=rescore, block_rows=block_size or DEFAULT_READ_BLOCK)
    meta = {"queries": str(queries), "gallery": str(gallery), "top_k": top_k, "method": result.method,
            "params": result.params, "checkpoint_sha256": q.meta.get("checkpoint_sha256"),
            "feature_options": q.meta.get("feature_options"), "skipped_rows": {"queries": q.skipped, "gallery": g.skipped},
            "build_s": result.build_s, "search_s": result.search_s, **provenance()}
    write_ranked(out, ranked_table(q, g, result), meta)
    typer.echo(f"{len(q.paths)} queries x {len(g.paths)} gallery, top-{result.index.shape[1]} by cosine "
               f"({result.method}, {result.params}): build {result.build_s:.2f} s, search {result.search_s:.2f} s "
               f"-> {out}")
    if sheet is not None:
        typer.echo(f"sheet -> {draw_sheet(sheet, q, g, result, sheet_queries)}")


def export_command(
    checkpoint: Path = typer.Option(..., "--checkpoint", help="Trained vireid checkpoint (.pt)."),
    fmt: str = typer.Option("onnx", "--format", help="onnx | torchscript."),
    out: Path = typer.Option(..., "--out", help="Output folder."),
    check_images: list[Path] = typer.Option(None, "--check-images", help="Images for the equality check (repeatable; default: seeded noise)."),
    batch: int = typer.Option(4, "--batch", min=1, help="Batch size of the equality check (the graphs are traced on 2: this checks the dynamic batch)."),
    atol: float = typer.Option(1e-5, "--atol", min=0.0, help="Largest absolute feature difference accepted."),
    feature: str = typer.Option(None, "--feature", help="Override the checkpoint's feature kind: pooled | bn | proj | concat."),
    flip: str = typer.Option(None, "--flip", help="Override the checkpoint's flip TTA: none | mean | concat."),
    interpolation: str = typer.Option(None, "--interpolation", help="Override the checkpoint's resizing: bicubic | bilinear."),
) -> None:
    from vireid.inference.export import export_model

    model = _load(checkpoint, "cpu", feature, flip, interpolation)
    checks = export_model(model, out, fmt.lower(), check_images=list(check_images or []), batch=batch, atol=atol)
    for c in checks:
        verdict = "ok" if c.ok else "FAILED"
        typer.echo(f"{c.file}: batch {c.batch}, max |exported - pytorch| = {c.max_abs_diff:.2e} "
                   f"(tolerance {c.atol:.0e}) {verdict}")
    typer.echo(f"preprocessing -> {out / 'preprocessing.json'}")
    if not all(c.ok for c in checks):
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    """Add ``vireid embed``, ``vireid search`` and ``vireid export`` to the root app."""
    app.command("embed", help=EMBED_HELP, no_args_is_help=True)(embed_command)
    app.command("search", help=SEARCH_HELP, no_args_is_help=True)(search_command)
    app.command("export", help=EXPORT_HELP, no_args_is_help=True)(export_command)
