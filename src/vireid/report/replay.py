"""The protocol replayed on a run's saved test features: the per-camera-pair and
per-direction breakdown, and the 2-D projection of the features. The query/gallery lists
come from the dataset root recorded in results.json (the features file holds paths and
modalities only), so identities and cameras are the protocol's own."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from vireid.report import html
from vireid.report.analysis import Breakdown, pca_2d
from vireid.report.inputs import RunFolder
from vireid.report.text import describe_evaluation

MAX_PROJECTED_IDS = 20   # more colours than tab20 has stop telling identities apart


@dataclass
class Replay:
    """The protocol run again on the saved features: breakdown, first trial of the first setting."""

    table: Any = None                                        # the FeatureTable replayed
    breakdown: Breakdown = field(default_factory=Breakdown)
    first: dict[str, Any] = field(default_factory=dict)
    pid_of: dict[str, int] = field(default_factory=dict)


def replay(run: RunFolder) -> Replay:
    from vireid.evaluation.runner import run_protocol
    from vireid.evaluation.store import load_features

    record = run.record or {}
    results = record["results"]
    table = load_features(run.features)
    out = Replay(table=table)
    single_direction = len({e.get("query_modality") for e in results["settings"].values()}) == 1

    def hook(setting, trial, query, gallery, distmat, result):
        out.breakdown.add(setting.key, setting.title, query, gallery, distmat, setting.protocol, result,
                          swap=single_direction)
        for s in (query, gallery):
            out.pid_of.update(zip(s.paths, s.pids.tolist()))
        if not out.first:
            out.first.update(setting=setting, query=query, gallery=gallery, distmat=distmat, result=result,
                             trial=trial)

    regdb_trial = results["trials"][0] if results.get("dataset") == "regdb" else None
    run_protocol(results["dataset"], record["root"], table, trials=len(results["trials"]),
                 regdb_trial=regdb_trial, max_rank=int(results.get("max_rank", 20)), on_trial=hook)
    return out


def breakdown_section(record: dict[str, Any], rep: Replay) -> str:
    parts = [html.table(["direction", "setting", "R1", "mAP", "trials"],
                        [(d, s, html.percent(r1), html.percent(m), n)
                         for d, s, r1, m, n in rep.breakdown.direction_rows()], left=2,
                        caption="per direction: mean over trials"),
             html.note("Rows marked 'roles swapped' rank the same trial's gallery images against its "
                       "queries (no removal); the protocol itself has one direction, so these are a "
                       "diagnostic, not comparable to published numbers.")]
    for key, title in rep.breakdown.titles.items():
        parts.append(html.table(["query camera", "gallery camera", "R1", "mAP", "trials", "valid queries"],
                                [(q, g, html.percent(r1), html.percent(m), n, v)
                                 for q, g, r1, m, n, v in rep.breakdown.pair_rows(key)], left=0,
                                caption=f"{title}: each query camera against one gallery camera, the "
                                        f"protocol's removal rule applied; mean over trials"))
    return "".join(parts) + html.note(describe_evaluation(record))


def projection_section(run: RunFolder, rep: Replay) -> str:
    from vireid.report.figures import projection

    table = rep.table
    keep = [i for i, p in enumerate(table.paths) if p in rep.pid_of]
    pids = np.array([rep.pid_of[table.paths[i]] for i in keep])
    shown = sorted(set(pids.tolist()))[:MAX_PROJECTED_IDS]
    sel = np.isin(pids, shown)
    rows = np.array(keep)[sel]
    coords, ratio = pca_2d(table.features[rows])
    mods = [table.modalities[i] for i in rows]
    return (projection(coords, pids[sel], mods, ratio, f"{run.name}: test features, {len(shown)} identities")
            + html.note(f"PCA of the saved test features (results/features.npz) of the first {len(shown)} "
                        f"identities (sorted ids) of {len(set(pids.tolist()))}: colour = identity, "
                        f"circle = visible, triangle = infrared; {len(rows)} images"))
