"""The sections of one run: provenance card, protocol table, CMC, training curves,
per-camera/direction breakdown, hardest queries (ranked lists, captions, activation maps)
and a 2-D projection of the test features."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from vireid.evaluation.runner import SUMMARY_KEYS
from vireid.report import html
from vireid.report.hardest import hardest_section
from vireid.report.inputs import RunFolder
from vireid.report.replay import breakdown_section, projection_section, replay
from vireid.report.text import describe_evaluation


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


def _diagnostics(run: RunFolder, record: dict[str, Any], hardest: int, device: str) -> list[str]:
    """Breakdown, hardest queries and projection: the protocol replayed on the saved features."""
    from vireid.errors import VireidError

    root = Path(str(record.get("root")))
    if not root.is_dir():
        return [html.missing([f"{root}: dataset root not found (it holds the protocol's query/gallery lists "
                              f"and images): no breakdown, ranked lists or projection"])]
    try:
        rep = replay(run)
    except VireidError as exc:   # features of another root, a changed dataset: say so, keep the page
        return [html.missing([f"cannot replay the protocol on {run.features}: {str(exc).splitlines()[0]}"])]
    body = ["<h3>Per camera pair and direction</h3>", breakdown_section(record, rep)]
    if hardest > 0:
        body += ["<h3>Hardest queries</h3>", hardest_section(run, rep, hardest, device)]
    else:
        body.append(html.note("ranked lists off (--hardest 0)"))
    return body + ["<h3>2-D projection of test features</h3>", projection_section(run, rep)]


def run_sections(run: RunFolder, anchor: str, *, hardest: int = 6, device: str = "cpu") -> list[tuple[str, str, str]]:
    """(anchor, heading, html) of every section of ``run``; what cannot be shown says why."""
    body = [html.missing(run.missing), "<h3>Provenance</h3>", provenance_card(run)]
    record = run.record
    if record is not None:
        body += ["<h3>Protocol table</h3>", protocol_table(record), "<h3>CMC</h3>", cmc_section(record)]
    body += ["<h3>Training curves</h3>", training_section(run)]
    if record is not None and run.features is not None:
        body += _diagnostics(run, record, hardest, device)
    return [(anchor, f"Run {run.name}", "".join(body))]
