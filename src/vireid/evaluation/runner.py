"""Runs every setting and trial of a dataset's protocol from features: the one loop that the
CLI, the pipeline/demo and anything else share.

Settings: SYSU-MM01 all/indoor x single/multi-shot (10 sampled-gallery trials, 0..9);
RegDB visible->thermal and thermal->visible (one model per trial, so one trial 1..10 per
run); LLCM IR->VIS and VIS->IR (10 sampled-gallery trials, 0..9); a custom dataset's
IR->VIS and/or VIS->IR over its index's gallery trials (:mod:`vireid.evaluation.custom`).
Distances are cosine distances on L2-normalised features; each query set's distances to the
union of all its galleries are computed once and the columns of each trial's gallery taken
from them. With re-ranking, each trial's query and gallery are also re-ranked
(:mod:`vireid.evaluation.rerank`) and scored under the same gallery rule: the rule's removal
applies to the re-ranked distances, after re-ranking.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from vireid.datasets.registry import DATASETS
from vireid.errors import VireidError
from vireid.evaluation.chance import chance_level
from vireid.evaluation.custom import custom_directions, custom_gallery, custom_query, custom_rule, custom_trials
from vireid.evaluation.llcm import llcm_gallery, llcm_query
from vireid.evaluation.metrics import EvalResult, evaluate
from vireid.evaluation.regdb import regdb_gallery, regdb_query
from vireid.evaluation.rerank import RerankOptions, rerank_features
from vireid.evaluation.retrieval import cosine_distance
from vireid.evaluation.sets import EvalSet
from vireid.evaluation.store import FeatureTable
from vireid.evaluation.sysu import sysu_gallery, sysu_query

SUMMARY_KEYS = ("R1", "R5", "R10", "R20", "mAP", "mINP")

FeatureSource = FeatureTable | Callable[[list[str], list[str]], np.ndarray]
TrialHook = Callable[["Setting", int, EvalSet, EvalSet, np.ndarray, EvalResult], None]


@dataclass(frozen=True)
class Setting:
    key: str                                  # e.g. "all_single", used in results.json
    title: str                                # e.g. "all-search single-shot"
    protocol: str                             # metric rule passed to evaluate()
    query: Callable[[], EvalSet]
    gallery: Callable[[int], EvalSet]         # trial -> gallery


def dataset_settings(dataset: str, root: str | Path, regdb_trial: int | None = None) -> list[Setting]:
    """The evaluation settings of ``dataset`` reading lists under ``root``."""
    if dataset == "sysu":
        return [Setting(f"{mode}_{name}", f"{mode}-search {name}-shot", "sysu",
                        partial(sysu_query, root, mode),
                        lambda t, mode=mode, shots=shots: sysu_gallery(root, mode, t, shots))
                for mode in ("all", "indoor") for name, shots in (("single", 1), ("multi", 10))]
    if dataset == "regdb":
        if regdb_trial is None:
            raise VireidError("RegDB needs the trial (1..10) whose model is evaluated: one model per trial")
        return [Setting(d, title, "regdb", partial(regdb_query, root, regdb_trial, d),
                        lambda _t, d=d: regdb_gallery(root, regdb_trial, d))
                for d, title in (("vis2ir", "visible->thermal"), ("ir2vis", "thermal->visible"))]
    if dataset == "llcm":
        return [Setting(d, title, "llcm", partial(llcm_query, root, d),
                        lambda t, d=d: llcm_gallery(root, d, t))
                for d, title in (("ir2vis", "IR->VIS"), ("vis2ir", "VIS->IR"))]
    if dataset == "custom":
        rule = custom_rule(root)
        return [Setting(d, title, rule, partial(custom_query, root, d),
                        lambda t, d=d: custom_gallery(root, d, t))
                for d, title in custom_directions(root)]
    raise VireidError(f"unknown dataset {dataset!r}; expected one of {', '.join(DATASETS)}")


def trial_numbers(dataset: str, trials: int = 10, regdb_trial: int | None = None,
                  root: str | Path | None = None) -> list[int]:
    """Gallery trials to run: 0..trials-1 (seeds) for SYSU/LLCM, the single model trial for
    RegDB, the first ``trials`` of the index's gallery trials for a custom dataset."""
    if dataset == "regdb":
        return [int(regdb_trial)] if regdb_trial is not None else []
    if not 1 <= trials <= 10:
        raise VireidError(f"trials must be between 1 and 10, got {trials}")
    if dataset == "custom":
        return custom_trials(root)[:trials]
    return list(range(trials))


def plan(dataset: str, root: str | Path, trials: int = 10,
         regdb_trial: int | None = None) -> list[tuple[Setting, int, EvalSet, EvalSet]]:
    """Every (setting, trial, query, gallery) the protocol evaluates, lists built once."""
    out = []
    for setting in dataset_settings(dataset, root, regdb_trial):
        query = setting.query()
        out.extend((setting, t, query, setting.gallery(t))
                   for t in trial_numbers(dataset, trials, regdb_trial, root))
    return out


def required_images(steps: Sequence[tuple[Setting, int, EvalSet, EvalSet]]) -> tuple[list[str], list[str]]:
    """Union of the images all steps need, first-seen order: (paths, modalities)."""
    seen: dict[str, str] = {}
    for _, _, query, gallery in steps:
        for s in (query, gallery):
            for p in s.paths:
                seen.setdefault(p, s.modality)
    return list(seen), list(seen.values())


def _stats(values: list[dict[str, float]]) -> tuple[dict[str, float], dict[str, float]]:
    keys = [k for k in SUMMARY_KEYS if all(k in v for v in values)]
    arr = {k: np.array([v[k] for v in values]) for k in keys}
    return ({k: float(a.mean()) for k, a in arr.items()}, {k: float(a.std()) for k, a in arr.items()})


def run_protocol(dataset: str, root: str | Path, features: FeatureSource, *, trials: int = 10,
                 regdb_trial: int | None = None, max_rank: int = 20,
                 on_trial: TrialHook | None = None, rerank: RerankOptions | None = None) -> dict[str, Any]:
    """Evaluate every setting and trial; metrics are fractions (mean and population std over trials).

    With ``rerank``, every trial is also scored on its k-reciprocal re-ranked distances
    (same gallery rule, applied after re-ranking): ``per_trial[i]["reranked"]`` and the
    setting's ``reranked`` mean / std / CMC, next to the plain numbers.

    ``features`` is a :class:`FeatureTable` (paths looked up, missing ones listed in the
    error) or a callable ``(paths, modalities) -> [N, D]`` called once for the union of all
    images. ``on_trial`` sees each trial's sets, distance matrix and result (for reports).
    """
    steps = plan(dataset, root, trials, regdb_trial)
    paths, modalities = required_images(steps)
    table = features if isinstance(features, FeatureTable) else \
        FeatureTable(paths, np.asarray(features(paths, modalities), dtype=np.float32), modalities)
    source = str(table.meta.get("source", "the feature table"))

    # One distance block per distinct query set against the union of its galleries.
    blocks: dict[tuple[str, ...], tuple[dict[str, int], np.ndarray]] = {}
    for _, _, query, _ in steps:
        key = tuple(query.paths)
        if key not in blocks:
            union = list(dict.fromkeys(p for _, _, q, g in steps if q.paths == query.paths for p in g.paths))
            dist = cosine_distance(table.lookup(query.paths, source), table.lookup(union, source))
            blocks[key] = ({p: i for i, p in enumerate(union)}, dist.astype(np.float32, copy=False))

    settings: dict[str, dict[str, Any]] = {}
    for setting, trial, query, gallery in steps:
        column, dist = blocks[tuple(query.paths)]
        # take: a C-ordered copy (fancy indexing on columns returns a column-major one)
        distmat = dist.take([column[p] for p in gallery.paths], axis=1)
        result = evaluate(distmat, query.pids, gallery.pids, query.cams, gallery.cams,
                          protocol=setting.protocol, max_rank=max_rank)
        chance = chance_level(query.pids, gallery.pids, query.cams, gallery.cams, setting.protocol)
        if on_trial is not None:
            on_trial(setting, trial, query, gallery, distmat, result)
        entry = settings.setdefault(setting.key, {"title": setting.title, "protocol": setting.protocol,
                                                  "query_modality": query.modality,
                                                  "num_query": len(query), "per_trial": []})
        record = {"trial": trial, **result.summary(), "cmc": result.cmc.tolist(),
                  "num_gallery": len(gallery), "num_valid": result.num_valid,
                  "num_invalid": result.num_invalid, "chance": chance}
        if rerank is not None:
            reranked, route = rerank_features(table.lookup(query.paths, source),
                                               table.lookup(gallery.paths, source), rerank)
            again = evaluate(reranked, query.pids, gallery.pids, query.cams, gallery.cams,
                             protocol=setting.protocol, max_rank=max_rank)
            record["reranked"] = {**again.summary(), "cmc": again.cmc.tolist(), "route": route,
                                  "num_valid": again.num_valid}
        entry["per_trial"].append(record)
    for entry in settings.values():
        runs = entry["per_trial"]
        entry["mean"], entry["std"] = _stats(runs)
        entry["cmc_mean"] = np.mean([r["cmc"] for r in runs], axis=0).tolist()
        entry["chance"] = {k: float(np.mean([r["chance"][k] for r in runs])) for k in runs[0]["chance"]}
        if rerank is not None:
            again = [r["reranked"] for r in runs]
            mean, std = _stats(again)
            entry["reranked"] = {"mean": mean, "std": std,
                                 "cmc_mean": np.mean([r["cmc"] for r in again], axis=0).tolist()}
    out = {"dataset": dataset, "root": str(root), "units": "fraction", "max_rank": max_rank,
           "trials": trial_numbers(dataset, trials, regdb_trial, root), "settings": settings}
    if rerank is not None:
        out["rerank"] = {**rerank.to_dict(), "method": "k-reciprocal (Zhong et al., CVPR 2017)",
                         "distance": "Euclidean distance of the L2-normalised features, sqrt(2 (1 - cos))"}
    return out
