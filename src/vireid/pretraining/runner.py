"""``run_pretrain``: the cached pretrain stage (corpus -> CLIP training -> file -> checks)."""

from __future__ import annotations

import json
import sys
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any, Callable

from vireid.atomic import write_json
from vireid.errors import VireidError
from vireid.fingerprint import provenance
from vireid.pretraining.cache import SUMMARY_FILE, pretrain_dir, pretrain_fingerprint, weights_name
from vireid.pretraining.config import PretrainConfig
from vireid.pretraining.corpus import build_corpus
from vireid.pretraining.store import save_openai_format
from vireid.pretraining.train import train_clip
from vireid.pretraining.zero_shot import benchmark_reid, caption_retrieval, load_pretrained


def _echo(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def run_pretrain(cfg: PretrainConfig, *, root: str | Path | None = None, benchmark: str | Path | None = None,
                 dataset: str = "sysu", force: bool = False, show_progress: bool = True,
                 echo: Callable[[str], None] = _echo) -> dict[str, Any]:
    """Pretrain (or re-use the cached result of) ``cfg``; returns its summary.

    ``benchmark`` adds the zero-shot re-id check on that dataset folder (computed once per
    folder and kept in the summary). Nothing is written until the weights are complete.
    """
    cfg.validate()
    if benchmark is not None and not Path(benchmark).is_dir():  # before minutes of pretraining, not after
        raise VireidError(f"{benchmark}: dataset root not found (--benchmark)")
    out = pretrain_dir(cfg, root)
    weights, summary_path = out / weights_name(cfg), out / SUMMARY_FILE
    prior = None  # the saved file loaded as a training run loads it, once for both checks
    if weights.is_file() and summary_path.is_file() and not force:
        summary = json.loads(summary_path.read_text())
        summary["weights"] = str(weights)  # where the file is now: a cache folder may have moved
        echo(f"pretrain: cached ({weights})")
    else:
        start = time.perf_counter()
        corpus = build_corpus(cfg, show_progress=show_progress)
        corpus_s = time.perf_counter() - start
        model, history = train_clip(cfg, corpus.subset(~corpus.heldout), show_progress=show_progress)
        train_s = time.perf_counter() - start - corpus_s
        save_openai_format(model, weights)
        prior = load_pretrained(cfg, weights)
        retrieval = caption_retrieval(prior, corpus.subset(corpus.heldout))
        summary = {
            "fingerprint": pretrain_fingerprint(cfg), "weights": str(weights), "config": asdict(cfg),
            "corpus": {"photos": len(corpus.captions), "training_photos": int((~corpus.heldout).sum()),
                       "heldout_photos": int(corpus.heldout.sum()), "greyscale_photos": int(corpus.greyscale.sum())},
            "seconds": {"corpus": round(corpus_s, 1), "training": round(train_s, 1)},
            "final_loss": history[-1]["loss"], "final_logit_scale": history[-1]["logit_scale"],
            "caption_to_image": retrieval, "zero_shot_reid": {}, "history": history,
            "provenance": provenance(),
        }
        write_json(summary_path, summary)
    key = str(Path(benchmark).resolve()) if benchmark is not None else None
    if key is not None and key not in summary["zero_shot_reid"]:
        summary["zero_shot_reid"][key] = benchmark_reid(prior if prior is not None else load_pretrained(cfg, weights),
                                                        dataset, benchmark)
        write_json(summary_path, summary)
    echo(format_checks(summary, key))
    return summary


def format_checks(summary: dict[str, Any], benchmark: str | None = None) -> str:
    """The prior's checks beside chance, in percent."""
    r = summary["caption_to_image"]
    lines = [f"pretrain {summary['fingerprint']}: {summary['weights']}",
             f"zero-shot caption->image, {r['people']} held-out web people ({r['queries']} captions x "
             f"{r['gallery']} photos): R1 {100 * r['R1']:.1f}% mAP {100 * r['mAP']:.1f}% "
             f"(chance R1 {100 * r['chance']['R1']:.1f}% mAP {100 * r['chance']['mAP']:.1f}%)"]
    if benchmark is not None:
        check = summary["zero_shot_reid"][benchmark]
        for s in check["settings"].values():
            lines.append(f"zero-shot re-id, {check['dataset']} {s['title']} ({check['feature']} feature, no flip, "
                         f"{check['trials']} trials, {benchmark}): R1 {100 * s['R1']:.1f}% mAP {100 * s['mAP']:.1f}% "
                         f"(chance R1 {100 * s['chance']['R1']:.1f}% mAP {100 * s['chance']['mAP']:.1f}%)")
    return "\n".join(lines)
