"""Human-facing outputs of an evaluation: the percent table, the CMC-curve PNG and the
ranked-list PNG (queries with their top-10 gallery images, true matches green, wrong red)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
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


def _thumbnail(path: Path) -> np.ndarray:
    try:
        return np.asarray(load_rgb(path).resize((64, 128)))
    except ImageReadError:
        return np.full((128, 64, 3), 128, dtype=np.uint8)   # draw a grey tile, keep going


@dataclass(frozen=True)
class Tile:
    """One image of a ranked-list row: its file, a caption, and whether it matches the query
    (True green frame, False red, None: unknown identity, no frame)."""

    path: Path
    caption: str
    match: bool | None = None


def draw_ranked_rows(rows: Sequence[tuple[Tile, Sequence[Tile]]], path: str | Path, top: int) -> Path:
    """A grid, one row per ``(query, ranked gallery tiles)``: the query then up to ``top``
    results, each framed by whether it matches (``vireid eval --ranked-list``, ``vireid search
    --sheet``)."""
    plt = _pyplot()
    fig, axes = plt.subplots(max(len(rows), 1), top + 1, figsize=(1.1 * (top + 1), 2.2 * max(len(rows), 1)),
                             squeeze=False)
    for row, (query, ranked) in enumerate(rows):
        axes[row, 0].imshow(_thumbnail(query.path))
        axes[row, 0].set_title(query.caption, fontsize=7)
        for col, tile in enumerate(ranked[:top], start=1):
            ax = axes[row, col]
            ax.imshow(_thumbnail(tile.path))
            if tile.match is not None:
                colour = "limegreen" if tile.match else "red"
                for side in ax.spines.values():
                    side.set(edgecolor=colour, linewidth=3, visible=True)
            ax.set_title(tile.caption, fontsize=7)
    for ax in axes.flat:
        ax.set_xticks([])
        ax.set_yticks([])
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=80)
    plt.close(fig)
    return Path(path)


def plot_ranked_list(root: str | Path, query: EvalSet, gallery: EvalSet, distmat: np.ndarray,
                     protocol: str, num_queries: int, path: str | Path, top: int = 10) -> Path:
    """Grid of ``num_queries`` queries (evenly spaced over the query list, so it is
    reproducible) with their top-``top`` gallery images after the protocol's removal."""
    root = Path(root)
    picks = np.unique(np.linspace(0, len(query) - 1, num=min(num_queries, len(query))).round().astype(int))
    removed = removal_mask(protocol, query.pids[picks], query.cams[picks], gallery.pids, gallery.cams)
    rows = []
    for row, qi in enumerate(picks):
        order = np.argsort(distmat[qi], kind="stable")
        if removed is not None:
            order = order[~removed[row][order]]
        ranked = [Tile(root / gallery.paths[gi], str(gallery.pids[gi]), bool(gallery.pids[gi] == query.pids[qi]))
                  for gi in order[:top]]
        rows.append((Tile(root / query.paths[qi], f"query {query.pids[qi]}"), ranked))
    return draw_ranked_rows(rows, path, top)
