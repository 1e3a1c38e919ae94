"""Checks of the prior itself, each beside its chance level (no fine-tuning anywhere).

* caption -> image retrieval on held-out web people: every caption queries every held-out
  photo; the photos of the same person are its matches;
* cross-modality re-id of the pretrained image tower on a benchmark's test set, with the
  benchmark's own protocol, as CLIP-ReID reports zero-shot CLIP.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch

from vireid.evaluation.chance import chance_level
from vireid.evaluation.checkpoint import extract_table
from vireid.evaluation.features import FeatureOptions
from vireid.evaluation.metrics import evaluate
from vireid.evaluation.retrieval import cosine_distance
from vireid.evaluation.runner import run_protocol
from vireid.models import ModelConfig, build_model
from vireid.pretraining.config import PretrainConfig
from vireid.pretraining.corpus import WebCorpus
from vireid.pretraining.train import normalised
from vireid.tokenizer import tokenize

# What the re-id check reports: the CLIP image feature, no flip, the protocol's 10 trials.
REID_FEATURE = "proj"
REID_TRIALS = 10


def load_pretrained(cfg: PretrainConfig, weights: str | Path) -> torch.nn.Module:
    """The two-stem ReID network built from the saved file: the path a training run takes."""
    model_cfg = ModelConfig(name=cfg.model, pretrained="synthetic-web", clip_weights=str(weights),
                            image_size=tuple(cfg.image_size))
    return build_model(model_cfg, num_classes=1).eval()


@torch.no_grad()
def caption_retrieval(model: torch.nn.Module, corpus: WebCorpus, batch: int = 256) -> dict[str, Any]:
    """Zero-shot caption -> image R1 / mAP on ``corpus`` (fractions) and their chance levels."""
    images = np.concatenate([model.encode_image(normalised(corpus.images[i:i + batch]), "visible")["proj"].numpy()
                             for i in range(0, len(corpus.captions), batch)])
    tokens = tokenize(corpus.captions)
    texts = np.concatenate([model.encode_text(tokens[i:i + batch]).numpy() for i in range(0, len(tokens), batch)])
    dist = cosine_distance(texts, images)
    pids = corpus.person
    cams_q, cams_g = np.zeros(len(pids), dtype=np.int64), np.ones(len(pids), dtype=np.int64)
    result = evaluate(dist, pids, pids, cams_q, cams_g, protocol="regdb", max_rank=10)
    chance = chance_level(pids, pids, cams_q, cams_g, protocol="regdb")
    return {"queries": len(pids), "gallery": len(pids), "people": int(len(np.unique(pids))),
            "R1": result.summary()["R1"], "mAP": result.mAP, "chance": {"R1": chance["R1"], "mAP": chance["mAP"]}}


def benchmark_reid(model: torch.nn.Module, dataset: str, root: str | Path) -> dict[str, Any]:
    """Zero-shot re-id on ``root``'s test set with ``dataset``'s full protocol; every setting."""
    table = extract_table(model, dataset, root, trials=REID_TRIALS,
                          options=FeatureOptions(feature=REID_FEATURE, flip="none"))
    results = run_protocol(dataset, root, table, trials=REID_TRIALS)
    settings = {key: {"title": s["title"], "R1": s["mean"]["R1"], "mAP": s["mean"]["mAP"],
                      "std": {"R1": s["std"]["R1"], "mAP": s["std"]["mAP"]},
                      "chance": {"R1": s["chance"]["R1"], "mAP": s["chance"]["mAP"]}}
                for key, s in results["settings"].items()}
    return {"dataset": dataset, "root": str(Path(root).resolve()), "feature": REID_FEATURE, "flip": "none",
            "trials": REID_TRIALS, "settings": settings}
