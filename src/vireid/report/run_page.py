"""The sections of one run: provenance card, protocol table, CMC, training curves,
per-camera/direction breakdown, hardest queries (ranked lists, captions, activation maps)
and a 2-D projection of the test features."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from vireid.evaluation.runner import SUMMARY_KEYS
from vireid.report import html
from vireid.report.analysis import Breakdown, hardest_queries, pca_2d, ranked_gallery, removed_rows
from vireid.report.inputs import RunFolder

TOP = 10
MAX_PROJECTED_IDS = 20   # more colours than tab20 has stop telling identities apart


def describe_evaluation(record: dict[str, Any]) -> str:
    """The line under every number of a run: protocol, trials, feature, flip, checkpoint, selection, seed."""
    results = record.get("results") or {}
    training = record.get("training") or {}
    trials = ", ".join(map(str, results.get("trials") or [])) or "?"
    return (f"protocol {results.get('dataset', record.get('protocol'))}, trials [{trials}], "
            f"feature {record.get('feature')}, flip {record.get('flip')}, resize {record.get('interpolation')}, "
            f"checkpoint {Path(str(record.get('checkpoint'))).name} "
            f"(sha256 {str(record.get('checkpoint_sha256') or '?')[:12]}), selection "
            f"{training.get('selection', '?')} [{training.get('selection_detail', '')}], "
            f"seed {training.get('seed', '?')}; percent, mean ± population std over trials")


def provenance_card(run: RunFolder) -> str:
    cfg, record = run.train_config, run.record or {}
    training = record.get("training") or {}
    info = run.config or {}
    prov = info.get("provenance") or record.get("provenance") or {}
    libraries = ", ".join(f"{k} {v}" for k, v in (prov.get("libraries") or {}).items())
    data = cfg.get("data") or {}
    items = [
        ("run folder", run.path),
        ("method", cfg.get("method") or training.get("method") or "?"),
        ("variant (preset)", cfg.get("preset") or training.get("preset") or "?"),
        ("recipe", cfg.get("recipe") or training.get("recipe") or "none"),
        ("dataset", f"{data.get('dataset') or record.get('protocol') or '?'}"
                    + (f", trial {data['trial']}" if data.get("trial") else "")),
        ("seed", run.seed if run.seed is not None else "?"),
        ("selection", f"{(cfg.get('run') or {}).get('selection') or training.get('selection') or '?'}"
                      + (f" [{training['selection_detail']}]" if training.get("selection_detail") else "")),
        ("epochs", f"{run.epochs_done} done of {run.planned_epochs or '?'} planned"),
        ("checkpoints", ", ".join(p.name for p in run.checkpoints) or "none"),
        ("evaluated checkpoint", f"{record.get('checkpoint') or '-'} (sha256 {record.get('checkpoint_sha256') or '-'})"),
        ("test feature", f"{record.get('feature', '-')}, flip {record.get('flip', '-')}, "
                         f"resize {record.get('interpolation', '-')}"),
        ("versions", f"vireid {prov.get('vireid_version', '?')}, git {str(prov.get('git_commit') or '?')[:12]}, "
                     f"python {prov.get('python', '?')}; {libraries}"),
        ("device", f"{info.get('device', '?')}, {info.get('processes', '?')} process(es), "
                   f"mixed precision {info.get('mixed_precision', '?')}"),
    ]
    items += [(f"input {k}", v) for k, v in (info.get("fingerprints") or {}).items()]
    if info.get("missing_captions"):
        items.append(("missing captions", f"{info['missing_captions']} training image(s)"))
    return html.card(items)


def result_sets(record: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """``results`` plus any other results-shaped entry of results.json (e.g. re-ranked
    numbers), so rows added by later evaluation options show without changes here."""
    out = [("", record["results"])]
    for key, value in record.items():
        if key != "results" and isinstance(value, dict) and isinstance(value.get("settings"), dict):
            out.append((key, value))
    return out


def protocol_table(record: dict[str, Any]) -> str:
    head = ["setting", *SUMMARY_KEYS, "chance R1", "chance mAP", "queries", "trials"]
    rows = []
    for label, results in result_sets(record):
        for entry in results["settings"].values():
            mean, std = entry.get("mean") or {}, entry.get("std") or {}
            several = len(entry.get("per_trial") or []) > 1
            chance = entry.get("chance") or {}
            rows.append([f"{entry.get('title', '?')}" + (f" [{label}]" if label else ""),
                         *[html.percent(mean.get(k), std.get(k) if several else None) for k in SUMMARY_KEYS],
                         html.percent(chance.get("R1")), html.percent(chance.get("mAP")),
                         entry.get("num_query", "-"), len(entry.get("per_trial") or [])])
    return html.table(head, rows) + html.note(describe_evaluation(record))


def cmc_section(record: dict[str, Any]) -> str:
    from vireid.report.figures import cmc_curves

    results = record["results"]
    curves = {e["title"]: e["cmc_mean"] for e in results["settings"].values() if e.get("cmc_mean")}
    return cmc_curves(curves, f"{results.get('dataset')}, mean over trials") + html.note(describe_evaluation(record))


def training_section(run: RunFolder) -> str:
    from vireid.report.figures import training_curves

    if not run.history:
        return html.note("no training log: nothing to plot")
    last = run.history[-1]
    vals = ", ".join(f"{k} {100 * v:.1f}%" for k, v in last.items() if k.startswith("val/") and k[4:] in SUMMARY_KEYS)
    return (training_curves(run.history)
            + html.note(f"{len(run.history)} epoch(s) logged (logs/train.jsonl); gradient norms are the "
                        f"per-term norms w.r.t. the projected image feature, sampled every "
                        f"{(run.train_config.get('run') or {}).get('grad_norm_every', '?')} steps"
                        + (f"; last held-out validation: {vals}" if vals else "")))


@dataclass
class Replay:
    """The protocol run again on the saved features: breakdown, first trial of the first setting."""

    breakdown: Breakdown = field(default_factory=Breakdown)
    first: dict[str, Any] = field(default_factory=dict)
    pid_of: dict[str, int] = field(default_factory=dict)


def replay(run: RunFolder) -> Replay:
    from vireid.evaluation.runner import run_protocol
    from vireid.evaluation.store import load_features

    record = run.record or {}
    results = record["results"]
    table = load_features(run.features)
    out = Replay()
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
    run_protocol(results["dataset"], record["root"], table, trials=len(results["trials"]), regdb_trial=regdb_trial, max_rank=int(results.get("max_rank", 20)), on_trial=hook)
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


def _captions(run: RunFolder) -> tuple[dict[str, str], str]:
    """path -> caption from the manifests training read; a reason when there are none."""
    from vireid.errors import VireidError
    from vireid.manifests import read_manifest

    manifests = run.caption_manifests()
    if not manifests:
        return {}, "this run trained without captions (no caption manifest in config.json)"
    found: dict[str, str] = {}
    problems = []
    for path in manifests:
        try:
            table = read_manifest(path, "captions")
        except VireidError as exc:
            problems.append(str(exc).splitlines()[0])
            continue
        found.update(zip(table.column("path").to_pylist(), table.column("caption").to_pylist()))
    return found, "; ".join(problems)


def _load_model(run: RunFolder, device: str) -> tuple[Any, str]:
    """The evaluated checkpoint's network, or None and why not."""
    from vireid.errors import VireidError
    from vireid.evaluation.checkpoint import load_checkpoint_model
    from vireid.report.activation import has_feature_map

    record = run.record or {}
    recorded = Path(str(record.get("checkpoint") or ""))
    # The run's own copy first: a moved or copied run folder keeps its checkpoints beside it.
    candidates = [run.path / "checkpoints" / recorded.name, recorded]
    path = next((p for p in candidates if recorded.name and p.is_file()), None)
    if path is None:
        return None, f"the evaluated checkpoint {recorded} is not on disk: no activation maps"
    try:
        model, meta = load_checkpoint_model(path, device)
    except VireidError as exc:
        return None, f"no activation maps: {str(exc).splitlines()[0]}"
    if record.get("checkpoint_sha256") and meta["checkpoint_sha256"] != record["checkpoint_sha256"]:
        return None, (f"{path} changed since it was evaluated (sha256 differs from results.json): "
                      f"no activation maps")
    if not has_feature_map(model):
        return None, f"{type(model).__name__} exposes no feature_map: no activation maps"
    return model, ""


def hardest_section(run: RunFolder, rep: Replay, count: int, device: str) -> str:
    from vireid.report.activation import activation_maps, load_tile
    from vireid.report.figures import ranked_strips

    first = rep.first
    query, gallery, distmat, result = first["query"], first["gallery"], first["distmat"], first["result"]
    setting = first["setting"]
    picks = hardest_queries(result, count)
    if not len(picks):
        return html.note("no valid query: nothing to rank")
    removed = removed_rows(setting.protocol, query, picks, gallery)
    root = Path(run.record["root"])
    model, why_no_maps = _load_model(run, device)
    captions, why_no_captions = _captions(run)
    orders = [ranked_gallery(distmat[qi], None if removed is None else removed[n], TOP)
              for n, qi in enumerate(picks)]
    paths = [p for qi, order in zip(picks, orders) for p in [query.paths[qi], *(gallery.paths[g] for g in order)]]
    mods = [m for order in orders for m in [query.modality, *([gallery.modality] * len(order))]]
    if model is not None:   # one pass over every strip's images
        images, maps = activation_maps(model, root, paths, mods, device)
    else:
        images, maps = [load_tile(root, p, (128, 64)) for p in paths], None
    strips, caption_rows, at = [], [], 0
    for qi, order in zip(picks, orders):
        span = slice(at, at + 1 + len(order))
        at = span.stop
        correct = [bool(gallery.pids[g] == query.pids[qi]) for g in order]
        strips.append({"query": images[span][0], "gallery": images[span][1:],
                       "maps": maps[span] if maps is not None else None, "correct": correct,
                       "query_pid": int(query.pids[qi]), "gallery_pids": [int(gallery.pids[g]) for g in order],
                       "ap": float(result.ap[qi])})
        wrong = next((g for g, ok in zip(order, correct) if not ok), None)
        caption_rows.append((query.paths[qi], int(query.pids[qi]), f"{result.ap[qi]:.3f}", int(result.first_rank[qi]),
                             captions.get(query.paths[qi], "-"),
                             gallery.paths[wrong] if wrong is not None else "-",
                             captions.get(gallery.paths[wrong], "-") if wrong is not None else "-"))
    notes = [f"{setting.title}, trial {first['trial']}: the {len(picks)} valid queries of lowest AP; "
             f"top {TOP} after the protocol's removal; green = same identity, red = another; "
             + ("second row of each: last conv block activation norm (visactmap)" if model is not None else why_no_maps)]
    if not captions:
        notes.append(f"no captions shown: {why_no_captions or 'the manifests hold none of these images'}")
    return (ranked_strips(strips) + "".join(html.note(n) for n in notes)
            + html.table(["query", "id", "AP", "first match rank", "query caption", "first wrong match",
                          "its caption"], caption_rows, left=7))


def projection_section(run: RunFolder, rep: Replay) -> str:
    from vireid.evaluation.store import load_features
    from vireid.report.figures import projection

    table = load_features(run.features)
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


def run_sections(run: RunFolder, anchor: str, *, hardest: int = 6, device: str = "cpu") -> list[tuple[str, str, str]]:
    """(anchor, heading, html) of every section of ``run``; what cannot be shown says why."""
    title = f"Run {run.name}"
    missing = list(run.missing)
    body = [html.missing(missing), "<h3>Provenance</h3>", provenance_card(run)]
    record = run.record
    if record is not None:
        body += ["<h3>Protocol table</h3>", protocol_table(record), "<h3>CMC</h3>", cmc_section(record)]
    body += ["<h3>Training curves</h3>", training_section(run)]
    if record is not None and run.features is not None:
        root = Path(str(record.get("root")))
        if not root.is_dir():
            body.append(html.missing([f"{root}: dataset root not found (it holds the protocol's query/gallery "
                                      f"lists and images): no breakdown, ranked lists or projection"]))
        else:
            rep = replay(run)
            body += ["<h3>Per camera pair and direction</h3>", breakdown_section(record, rep)]
            if hardest > 0:
                body += ["<h3>Hardest queries</h3>", hardest_section(run, rep, hardest, device)]
            else:
                body.append(html.note("ranked lists off (--hardest 0)"))
            body += ["<h3>2-D projection of test features</h3>", projection_section(run, rep)]
    return [(anchor, title, "".join(body))]
