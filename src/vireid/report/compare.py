"""The comparison of several runs: one row per run, or per reproduce row over its seeds
(``<row>-seed<k>[-trial<T>]`` folders), differences to a reference row, overlaid CMC and
loss curves and the config keys that differ.

A difference is marked when |diff| > 2 * sqrt(std_row^2 + std_ref^2), the stds being sample
stds over seeds; with a single seed on either side there is no seed std and nothing is
marked (the table says so).
"""

from __future__ import annotations

import json
import math
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import numpy as np

from vireid.report import html
from vireid.report.inputs import ReportError, RunFolder

METRICS = ("R1", "mAP", "mINP")


@dataclass(frozen=True)
class Stat:
    mean: float          # percent
    std: float           # sample std over seeds, percent (0 with one seed)
    seeds: int


def seed_stat(values_by_seed: dict[int, list[float]]) -> Stat:
    """Mean and sample std over seeds of per-seed values (each the mean of that seed's
    runs, e.g. its RegDB trials), in percent."""
    per_seed = [100 * float(np.mean(v)) for _, v in sorted(values_by_seed.items())]
    mean = float(np.mean(per_seed))
    std = float(np.std(per_seed, ddof=1)) if len(per_seed) > 1 else 0.0
    return Stat(mean, std, len(per_seed))


def exceeds_noise(diff: float, row: Stat, ref: Stat) -> bool:
    """|diff| beyond twice the combined seed std; never with one seed on either side."""
    if row.seeds < 2 or ref.seeds < 2:
        return False
    return abs(diff) > 2 * math.sqrt(row.std ** 2 + ref.std ** 2)


def group_rows(runs: list[RunFolder]) -> OrderedDict[str, list[RunFolder]]:
    groups: OrderedDict[str, list[RunFolder]] = OrderedDict()
    for run in runs:
        if run.record is not None:
            groups.setdefault(run.row, []).append(run)
    return groups


def row_stat(runs: list[RunFolder], setting: str, metric: str) -> Stat | None:
    by_seed: dict[int, list[float]] = {}
    for i, run in enumerate(runs):
        entry = run.record["results"]["settings"].get(setting)
        if entry and metric in (entry.get("mean") or {}):
            by_seed.setdefault(run.seed if run.seed is not None else -1 - i, []).append(entry["mean"][metric])
    return seed_stat(by_seed) if by_seed else None


def comparison_table(groups: OrderedDict[str, list[RunFolder]], reference: str, setting: str) -> str:
    head = ["row", "seed(s)"]  # the seeds behind each row, by value
    for m in METRICS:
        head += [m, f"Δ{m}"]
    ref = {m: row_stat(groups[reference], setting, m) for m in METRICS}
    rows, marks = [], []
    for r, (name, runs) in enumerate(groups.items()):
        seeds = sorted({run.seed for run in runs if run.seed is not None})
        cells = [name + (" (reference)" if name == reference else ""), ", ".join(map(str, seeds)) or "?"]
        for m in METRICS:
            stat = row_stat(runs, setting, m)
            if stat is None:
                cells += ["-", "-"]
                continue
            cells.append(f"{stat.mean:.2f} ± {stat.std:.2f}" if stat.seeds > 1 else f"{stat.mean:.2f}")
            if name == reference or ref[m] is None:
                cells.append("")
                continue
            diff = stat.mean - ref[m].mean
            cells.append(f"{diff:+.2f}")
            if exceeds_noise(diff, stat, ref[m]):
                marks.append((r, len(cells) - 1))
        rows.append(cells)
    return html.table(head, rows, marks=marks)


def flatten(value: Any, prefix: str = "") -> dict[str, str]:
    if isinstance(value, dict):
        out: dict[str, str] = {}
        for k, v in value.items():
            out.update(flatten(v, f"{prefix}{k}."))
        return out
    return {prefix.rstrip("."): json.dumps(value, sort_keys=True)}


def config_diff(runs: list[RunFolder]) -> tuple[list[str], list[list[str]]]:
    """(run names, rows of [key, value per run]) for the config keys whose values differ."""
    flat = [flatten(run.train_config) for run in runs]
    keys = sorted(set().union(*flat)) if flat else []
    rows = [[k, *[f.get(k, "(absent)") for f in flat]] for k in keys
            if len({f.get(k, "(absent)") for f in flat}) > 1]
    return [run.name for run in runs], rows


def comparison_sections(runs: list[RunFolder], reference: str | None,
                        tables: list[dict[str, Any]]) -> list[tuple[str, str, str]]:
    from vireid.report.figures import cmc_curves, overlaid_losses

    groups = group_rows(runs)
    body = []
    unevaluated = [run.name for run in runs if run.record is None]
    if unevaluated:
        body.append(html.missing([f"not in the tables (no results.json): {', '.join(unevaluated)}"]))
    if not groups:
        body.append(html.missing(["no run has results.json: nothing to compare"]))
    else:
        reference = reference or next(iter(groups))
        if reference not in groups:
            raise ReportError(f"--reference {reference!r}: no evaluated run or row of that name "
                              f"(rows: {', '.join(groups)})")
        settings = list(groups[reference][0].record["results"]["settings"].items())
        record = groups[reference][0].record
        test = (f"protocol {record['results'].get('dataset')}, trials {record['results'].get('trials')}, "
                f"feature {record.get('feature')}, flip {record.get('flip')}")
        for key, entry in settings:
            body += [f"<h3>{html.text(entry.get('title', key))}</h3>",
                     comparison_table(groups, reference, key)]
        body.append(html.note(
            f"Percent; each row: mean ± sample std over seeds of each seed's protocol mean (over its "
            f"trials); Δ = row - reference ({reference}); highlighted: |Δ| > 2 x combined seed std "
            f"(never with one seed: no seed std to judge). Reference row's test settings: {test}; "
            f"each run's own are in its section."))
        first_key = settings[0][0]
        curves = {}
        for name, members in groups.items():
            cmcs = [m.record["results"]["settings"][first_key]["cmc_mean"] for m in members
                    if first_key in m.record["results"]["settings"]]
            if cmcs:
                length = min(len(c) for c in cmcs)
                curves[name] = np.mean([c[:length] for c in cmcs], axis=0)
        body += ["<h3>CMC curves</h3>", cmc_curves(curves, f"{settings[0][1].get('title')}, mean over trials and seeds")]
    histories = {run.name: run.history for run in runs if run.history}
    if histories:
        body += ["<h3>Loss curves</h3>", overlaid_losses(histories)]
    names, rows = config_diff(runs)
    body += ["<h3>Config differences</h3>",
             html.table(["key", *names], rows) if rows else html.note("the runs' configs are identical"),
             html.note("config.json 'config' of each run, only keys whose values differ; '(absent)': "
                       "the run has no such key (or no config.json)")]
    for table in tables:
        body.append(html.note(f"reproduce table {table.get('table')}: {table.get('title')} "
                              f"({table.get('dataset')}, scale {table.get('scale')}, {table.get('seeds')} seed(s)); "
                              f"published numbers: {table.get('source')}"))
        pub = [[r.get("label", r.get("row")), json.dumps(r.get("published") or {})] for r in table.get("rows", [])]
        body.append(html.table(["row", "published (percent)"], pub, left=2))
    return [("comparison", "Comparison", "".join(body))]
