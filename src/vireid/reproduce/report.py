"""`vireid reproduce` outputs: ``table<N>.md`` (the human table), ``table<N>.json`` (every
number, per seed and per setting) and ``table<N>.png`` (a grouped bar chart, mean +- std over
seeds, published numbers as markers)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from vireid.atomic import atomic_path, write_json
from vireid.reproduce.tables import RERANKED

SETTING_TITLES = {"all_single": "all-search single-shot", "all_multi": "all-search multi-shot",
                  "indoor_single": "indoor-search single-shot", "indoor_multi": "indoor-search multi-shot",
                  "vis2ir": "visible->infrared", "ir2vis": "infrared->visible"}


def setting_title(setting: str) -> str:
    """A setting's printed name; a re-ranked twin is "<setting> re-ranked"."""
    if setting.endswith("_reranked"):
        return f"{setting_title(setting[:-len('_reranked')])} re-ranked"
    return SETTING_TITLES.get(setting, setting)


def _cell(stat: dict[str, float] | None, seeds: int) -> str:
    if not stat:
        return "-"
    return f"{stat['mean']:.1f} ± {stat['std']:.1f}" if seeds > 1 else f"{stat['mean']:.1f}"


def _delta(row: dict[str, Any], setting: str, metric: str) -> str:
    """"+2.4 (1.3x)" beside the baseline's row; "*" marks a difference above 2x combined std."""
    cmp = (row.get("vs_baseline") or {}).get(setting, {}).get(metric)
    if cmp is None:
        return "-"
    if cmp["ratio"] is None:
        return f"{cmp['diff']:+.1f} (1 seed)"
    return f"{cmp['diff']:+.1f} ({cmp['ratio']:.1f}x){' *' if cmp['resolved'] else ''}"


def _settings(rows: list[dict[str, Any]]) -> list[str]:
    main = rows[0]["main_settings"] if rows else []
    present = {s for r in rows for s in r["stats"]}
    return [s for s in main if s in present] or sorted(present)[:1]


def format_markdown(info: dict[str, Any], rows: list[dict[str, Any]]) -> str:
    seeds = info["seeds"]
    lines = [f"# Table {info['table']}: {info['title']}", "",
             f"Dataset **{info['dataset']}** (`{info['root']}`), scale **{info['scale']}**, recipe "
             f"**{info['recipe']}**, identity selection **{', '.join(info['selection'])}**, "
             f"{seeds} seed(s); captions: {info['captions']}; test feature {info['test_options'].get('feature')}, "
             f"flip {info['test_options'].get('flip')}, resize {info['test_options'].get('interpolation')}.",
             f"Percent; mean ± sample std over seeds" + (" (each seed: mean over the protocol's trials)." if seeds else "."),
             f"Published: {info['source']} (\"-\": none for this dataset).",
             "Chance: R1 / mAP of a random ranking of the same test sets (mean over trials); a row "
             "near it learned nothing."]
    if info.get("rerank"):
        r = info["rerank"]
        lines.append(f"Re-ranked rows: k-reciprocal re-ranking (Zhong et al., CVPR 2017) k1={r['k1']} "
                     f"k2={r['k2']} lambda={r['lambda_value']}, the protocol's gallery rule applied after it.")
    if any("vs_baseline" in r for r in rows):
        lines.append("Δ: difference to the baseline row in points, and its size in units of the combined std "
                     "of the two means (sqrt(std_a²/n_a + std_b²/n_b) over seeds); * marks a difference above 2x "
                     "(resolved by these seeds).")
    lines.append("")
    for setting in _settings(rows):
        title = setting_title(setting)
        # A random ranking is as good re-ranked as not: a re-ranked twin reads its base's floor.
        chance = (info.get("chance") or {}).get(setting.removesuffix(RERANKED), {})
        floor = (f"{chance['R1']:.1f} / {chance['mAP']:.1f}" if {"R1", "mAP"} <= set(chance) else "-")
        compared = any("vs_baseline" in r for r in rows)
        head = ["row", *[f"{m} ({title})" for m in rows[0]["metrics"]], "chance R1 / mAP",
                *([f"Δ {m}" for m in rows[0]["metrics"]] if compared else []),
                *[f"published {m}" for m in rows[0]["metrics"]]]
        lines += ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        for r in rows:
            stats = r["stats"].get(setting, {})
            pub = r["published"].get(setting, {})
            cells = [r["label"], *[_cell(stats.get(m), seeds) for m in r["metrics"]], floor,
                     *([_delta(r, setting, m) for m in r["metrics"]] if compared else []),
                     *[f"{pub[m]:.1f}" if m in pub else "-" for m in r["metrics"]]]
            lines.append("| " + " | ".join(cells) + " |")
        lines.append("")
    lines.append(f"Wall time of this call: {info['wall_s_this_call']:.0f} s (cached units cost ~0). "
                 f"vireid {info['vireid_version']}.")
    return "\n".join(lines) + "\n"


def plot_table(path: Path, info: dict[str, Any], rows: list[dict[str, Any]]) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    settings = _settings(rows)
    metrics = rows[0]["metrics"] if rows else []
    groups = [(s, m) for s in settings for m in metrics]
    fig, axes = plt.subplots(1, max(1, len(groups)), figsize=(max(5, 2.2 * len(rows)) * max(1, len(groups)) / 2 + 2, 4),
                             squeeze=False)
    x = np.arange(len(rows))
    for ax, (setting, metric) in zip(axes[0], groups):
        means = [r["stats"].get(setting, {}).get(metric, {}).get("mean", np.nan) for r in rows]
        stds = [r["stats"].get(setting, {}).get(metric, {}).get("std", 0.0) for r in rows]
        bars = ax.bar(x, means, yerr=stds, capsize=4, color="tab:blue", alpha=0.8, label="measured (mean ± std)")
        # the measured values stay legible when the published markers set a far larger scale
        ax.bar_label(bars, labels=[f"{m:.1f}" for m in means], padding=2, fontsize=7)
        chance = (info.get("chance") or {}).get(setting.removesuffix(RERANKED), {}).get(metric)
        if chance is not None:
            ax.axhline(chance, color="tab:red", linestyle="--", linewidth=1, label="chance (random ranking)")
        pub = [r["published"].get(setting, {}).get(metric, np.nan) for r in rows]
        if not all(np.isnan(pub)):
            ax.scatter(x, pub, marker="x", color="black", zorder=3, label="published")
        ax.set_xticks(x)
        ax.set_xticklabels([r["row"] for r in rows], rotation=30, ha="right", fontsize=8)
        ax.set_ylabel(f"{metric} (%)")
        ax.set_title(f"{metric}, {setting_title(setting)}", fontsize=9)
        ax.grid(axis="y", alpha=0.3)
        ax.legend(fontsize=7)
    fig.suptitle(f"Table {info['table']} on {info['dataset']} ({info['scale']}, recipe {info['recipe']}, "
                 f"{info['seeds']} seed(s))", fontsize=10)
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=110)
    plt.close(fig)
    return path


def write_outputs(out: Path, info: dict[str, Any], rows: list[dict[str, Any]], units: list[dict[str, Any]],
                  echo=print) -> dict[str, Any]:
    stem = f"table{info['table']}"
    record = {**info, "rows": rows, "units": units}
    write_json(out / f"{stem}.json", record)
    text = format_markdown(info, rows)
    with atomic_path(out / f"{stem}.md") as tmp:
        Path(tmp).write_text(text)
    plot_table(out / f"{stem}.png", info, rows)
    echo(text)
    echo(f"wrote {out / (stem + '.md')}, {out / (stem + '.json')}, {out / (stem + '.png')}")
    return record
