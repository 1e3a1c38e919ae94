"""Human-facing outputs of an evaluation: the percent table, the CMC-curve PNG and the
ranked-list PNG (queries with their top-10 gallery images, true matches green, wrong red)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from vireid.atomic import atomic_path
from vireid.datasets.images import ImageReadError, load_rgb
from vireid.evaluation.metrics import removal_mask
from vireid.evaluation.runner import SUMMARY_KEYS
from vireid.evaluation.sets import EvalSet


def describe_model(record: dict[str, Any]) -> str:
    """One line: how the evaluated model was selected and how its test features were made."""
    training = record.get("training") or {}
    policy = training.get("selection") or "unknown"
    detail = training.get("selection_detail")
    recipe = training.get("recipe") or "none"
    return (f"model: {training.get('method') or '?'} (recipe {recipe}), selection {policy}"
            + (f" [{detail}]" if detail else "")
            + f"; test feature {record.get('feature')}, flip {record.get('flip')}, "
              f"resize {record.get('interpolation')}, pixel stats {training.get('pixel_stats') or '?'}")


def format_table(results: dict[str, Any], record: dict[str, Any] | None = None) -> str:
    """One row per setting: mean (and std over trials when there are several) in percent;
    with re-ranking, each setting's re-ranked row ("<setting> re-ranked") under its plain one.

    With the results.json ``record`` a last line names the identity-selection policy and the
    test-feature options (see :func:`describe_model`)."""
    multi = len(results["trials"]) > 1
    rows = []
    for entry in results["settings"].values():
        rows.append((entry["title"], entry["mean"], entry["std"], entry["chance"]))
        if "reranked" in entry:
            again = entry["reranked"]
            rows.append((f"{entry['title']} re-ranked", again["mean"], again["std"], entry["chance"]))
    width = max([26, *(len(title) + 2 for title, *_ in rows)])
    head = f"{'setting':<{width}}" + "".join(f"{k:>15}" for k in SUMMARY_KEYS) + f"{'chance R1/mAP':>17}"
    lines = [head, "-" * len(head)]
    for title, mean, std, chance in rows:
        cells = []
        for k in SUMMARY_KEYS:
            if k not in mean:
                cells.append(f"{'-':>15}")
            elif multi:
                cells.append(f"{100 * mean[k]:>8.2f} ±{100 * std[k]:>5.2f}")
            else:
                cells.append(f"{100 * mean[k]:>15.2f}")
        level = f"{100 * chance['R1']:.2f}/{100 * chance['mAP']:.2f}"
        lines.append(f"{title:<{width}}" + "".join(cells) + f"{level:>17}")
    trials = ", ".join(map(str, results["trials"]))
    lines.append(f"{results['dataset']}: percent, mean ± std over trials [{trials}]" if multi
                 else f"{results['dataset']}: percent, trial {trials}")
    if "rerank" in results:
        r = results["rerank"]
        lines.append(f"re-ranked: k-reciprocal re-ranking k1={r['k1']} k2={r['k2']} lambda={r['lambda_value']} "
                     f"on the Euclidean distance of the L2-normalised features; the gallery rule is "
                     f"applied after re-ranking")
    if record is not None:
        lines.append(describe_model(record))
    return "\n".join(lines)


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")       # files only; never needs a display
    import matplotlib.pyplot as plt

    return plt


def plot_cmc(results: dict[str, Any], path: str | Path) -> Path:
    """Mean CMC curve of every setting (rank 1..max_rank, percent)."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6, 4))
    for entry in results["settings"].values():
        cmc = 100 * np.asarray(entry["cmc_mean"])
        ax.plot(np.arange(1, len(cmc) + 1), cmc, marker=".", label=entry["title"])
    ax.set(xlabel="rank", ylabel="matching rate (%)", title=f"CMC: {results['dataset']}",
           ylim=(0, 100))
    ax.xaxis.set_major_locator(plt.MaxNLocator(integer=True))  # ranks are whole numbers
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=120)
    plt.close(fig)
    return Path(path)


def _thumbnail(root: Path, rel: str) -> np.ndarray:
    try:
        return np.asarray(load_rgb(root / rel).resize((64, 128)))
    except ImageReadError:
        return np.full((128, 64, 3), 128, dtype=np.uint8)   # draw a grey tile, keep going


def plot_ranked_list(root: str | Path, query: EvalSet, gallery: EvalSet, distmat: np.ndarray,
                     protocol: str, num_queries: int, path: str | Path, top: int = 10) -> Path:
    """Grid of ``num_queries`` queries (evenly spaced over the query list, so it is
    reproducible) with their top-``top`` gallery images after the protocol's removal."""
    plt = _pyplot()
    root = Path(root)
    picks = np.unique(np.linspace(0, len(query) - 1, num=min(num_queries, len(query))).round().astype(int))
    removed = removal_mask(protocol, query.pids[picks], query.cams[picks], gallery.pids, gallery.cams)
    fig, axes = plt.subplots(len(picks), top + 1, figsize=(1.1 * (top + 1), 2.2 * len(picks)),
                             squeeze=False)
    for row, qi in enumerate(picks):
        order = np.argsort(distmat[qi], kind="stable")
        if removed is not None:
            order = order[~removed[row][order]]
        axes[row, 0].imshow(_thumbnail(root, query.paths[qi]))
        axes[row, 0].set_title(f"query {query.pids[qi]}", fontsize=7)
        for col in range(1, top + 1):
            ax = axes[row, col]
            if col - 1 < len(order):
                gi = order[col - 1]
                ax.imshow(_thumbnail(root, gallery.paths[gi]))
                colour = "limegreen" if gallery.pids[gi] == query.pids[qi] else "red"
                for side in ax.spines.values():
                    side.set(edgecolor=colour, linewidth=3, visible=True)
                ax.set_title(str(gallery.pids[gi]), fontsize=7)
        for ax in axes[row]:
            ax.set_xticks([])
            ax.set_yticks([])
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=80)
    plt.close(fig)
    return Path(path)
