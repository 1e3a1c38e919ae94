"""Run a protocol on a feature table and write its outputs (results.json, cmc.png, ranked list).

Shared by ``vireid eval`` and the pipeline, so both record every number the same way.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from vireid import __version__
from vireid.atomic import write_json
from vireid.evaluation.errors import EvaluationError
from vireid.evaluation.features import FeatureOptions, flip_mode
from vireid.evaluation.rerank import RerankOptions
from vireid.evaluation.runner import run_protocol
from vireid.evaluation.store import FeatureTable
from vireid.fingerprint import provenance

SEED_RULE = ("SYSU/LLCM gallery trial t (0..9) samples with random.Random(t), as the field's "
             "random.seed(t); RegDB has no sampling (trial = split files 1..10)")


@dataclass
class EvalReport:
    record: dict[str, Any]
    written: list[Path] = field(default_factory=list)

    @property
    def results(self) -> dict[str, Any]:
        return self.record["results"]


def check_finite(table: FeatureTable) -> None:
    """Non-finite features are refused naming where they came from (the checkpoint, or the
    saved features file) and an image, instead of a bare "NaN distances" later on."""
    bad = ~np.isfinite(np.asarray(table.features)).all(axis=1) if len(table.paths) else np.zeros(0, bool)
    if bad.any():
        source = table.meta.get("checkpoint") or table.meta.get("source") or "the features"
        first = table.paths[int(np.flatnonzero(bad)[0])]
        raise EvaluationError(f"{source}: non-finite (NaN/inf) features for {int(bad.sum())} of "
                              f"{len(table.paths)} images (e.g. {first}); the model's weights are "
                              f"probably not finite: evaluate another checkpoint")


def evaluate_table(table: FeatureTable, dataset: str, root: str | Path, out: str | Path, *,
                   trials: int = 10, regdb_trial: int | None = None, max_rank: int = 20,
                   ranked_list: int = 0, features_file: str | Path | None = None,
                   options: FeatureOptions = FeatureOptions(),
                   rerank: RerankOptions | None = None) -> EvalReport:
    """Evaluate every setting and trial and write ``out/results.json`` and ``out/cmc.png``
    (and ``out/ranked_list.png`` with ``ranked_list`` > 0).

    ``options`` say how the features were extracted; the table's own metadata wins where it
    has them. ``flip`` is recorded as its mode (``"none" | "mean" | "concat"``; older tables'
    True/False read as mean/none).
    ``rerank`` adds re-ranked numbers next to the plain ones (see :func:`run_protocol`).
    """
    from vireid.evaluation.report import plot_cmc, plot_ranked_list

    out = Path(out)
    check_finite(table)
    first: dict[str, Any] = {}

    def keep_first(setting, trial_no, query, gallery, distmat, result):
        if not first:
            first.update(setting=setting, query=query, gallery=gallery, distmat=distmat)

    results = run_protocol(dataset, root, table, trials=trials, regdb_trial=regdb_trial,
                           max_rank=max_rank, on_trial=keep_first if ranked_list else None,
                           rerank=rerank)
    record = {
        "protocol": dataset, "root": str(root),
        "feature": table.meta.get("feature", options.feature),
        "flip": flip_mode(table.meta.get("flip", options.flip)),
        "interpolation": table.meta.get("interpolation", options.interpolation),
        "pixel_stats": table.meta.get("pixel_stats", options.pixel_stats),
        "checkpoint": table.meta.get("checkpoint"),
        "checkpoint_sha256": table.meta.get("checkpoint_sha256"),
        "training": table.meta.get("training"),
        "features_file": str(features_file) if features_file else None,
        "seed": SEED_RULE, "vireid_version": __version__, "provenance": provenance(),
        "results": results,
    }
    written = [write_json(out / "results.json", record), plot_cmc(results, out / "cmc.png")]
    if ranked_list and first:
        written.append(plot_ranked_list(root, first["query"], first["gallery"], first["distmat"],
                                        first["setting"].protocol, ranked_list,
                                        out / "ranked_list.png"))
    return EvalReport(record, [Path(p) for p in written])
