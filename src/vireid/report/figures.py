"""The report's figures (matplotlib, Agg backend), returned as embedded ``<img>`` HTML."""

from __future__ import annotations

import io
import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from vireid.report.html import figure, png_uri


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")       # files only; never needs a display
    import matplotlib.pyplot as plt

    return plt


def cmc_curves(curves: Mapping[str, Sequence[float]], title: str) -> str:
    """One line per label: CMC in percent over ranks 1..len."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6.5, 3.8))
    for label, cmc in curves.items():
        values = 100 * np.asarray(cmc, dtype=float)
        ax.plot(np.arange(1, len(values) + 1), values, marker=".", label=label)
    ax.set(xlabel="rank", ylabel="matching rate (%)", title=title, ylim=(0, 100))
    ax.xaxis.set_major_locator(plt.MaxNLocator(integer=True))
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    fig.tight_layout()
    return figure(fig, f"CMC curves: {title}")


def _series(history: Sequence[Mapping[str, Any]], prefix: str) -> dict[str, tuple[list[int], list[float]]]:
    out: dict[str, tuple[list[int], list[float]]] = {}
    for rec in history:
        for key, value in rec.items():
            if key.startswith(prefix) and isinstance(value, (int, float)) and not isinstance(value, bool):
                xs, ys = out.setdefault(key.removeprefix(prefix), ([], []))
                xs.append(int(rec.get("epoch", len(xs) + 1)))
                ys.append(float(value))
    return out


def _plot_series(ax, series: Mapping[str, tuple[list[int], list[float]]], ylabel: str) -> None:
    from matplotlib.ticker import MaxNLocator

    finite = [v for _, ys in series.values() for v in ys if math.isfinite(v)]
    for label, (xs, ys) in series.items():
        ax.plot(xs, ys, marker="o", markersize=3, label=label)
    # Log scale only where the terms span orders of magnitude (loss terms of different size).
    if finite and min(finite) > 0 and max(finite) / min(finite) > 20:
        ax.set_yscale("log")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))   # epochs are whole numbers
    ax.set(xlabel="epoch", ylabel=ylabel)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, ncol=2)


def training_curves(history: Sequence[Mapping[str, Any]]) -> str:
    """Loss terms (``loss/*``) and per-term gradient norms (``grad/*``) per epoch."""
    plt = _pyplot()
    losses, grads = _series(history, "loss/"), _series(history, "grad/")
    panels = [(losses, "mean loss per term")] + ([(grads, "gradient norm per term")] if grads else [])
    fig, axes = plt.subplots(1, len(panels), figsize=(6 * len(panels), 3.6), squeeze=False)
    for ax, (series, label) in zip(axes[0], panels):
        _plot_series(ax, series, label)
    fig.tight_layout()
    return figure(fig, "loss terms and gradient norms per epoch")


def overlaid_losses(histories: Mapping[str, Sequence[Mapping[str, Any]]]) -> str:
    """``loss/total`` per epoch of every run on one axis."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6.5, 3.6))
    series = {}
    for name, history in histories.items():
        total = _series(history, "loss/").get("total")
        if total:
            series[name] = total
    _plot_series(ax, series, "mean total loss")
    fig.tight_layout()
    return figure(fig, "total loss per epoch of every run")


def projection(coords: np.ndarray, pids: np.ndarray, modalities: Sequence[str], ratio: np.ndarray,
               title: str) -> str:
    """2-D scatter: colour = identity (a cyclic palette), marker = modality."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6.5, 5))
    ids = {pid: i for i, pid in enumerate(sorted(set(pids.tolist())))}
    colours = plt.get_cmap("tab20")(np.array([ids[p] % 20 for p in pids.tolist()]))
    mods = np.asarray(modalities)
    for modality, marker in (("visible", "o"), ("infrared", "^")):
        sel = mods == modality
        if sel.any():
            ax.scatter(coords[sel, 0], coords[sel, 1], c=colours[sel], marker=marker, s=14,
                       alpha=0.8, edgecolors="none", label=modality)
    ax.set(xlabel=f"PC1 ({100 * ratio[0]:.1f}% of variance)", ylabel=f"PC2 ({100 * ratio[1]:.1f}%)",
           title=title)
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return figure(fig, f"PCA projection: {title}")


def _framed(tile: np.ndarray, colour: tuple[int, int, int], width: int = 3) -> np.ndarray:
    out = tile.copy()
    out[:width], out[-width:], out[:, :width], out[:, -width:] = colour, colour, colour, colour
    return out


def _overlay(tile: np.ndarray, heat: np.ndarray, alpha: float = 0.45) -> np.ndarray:
    from matplotlib import colormaps

    rgb = colormaps["jet"](heat)[..., :3] * 255
    return (tile * (1 - alpha) + rgb * alpha).astype(np.uint8)


def ranked_strips(strips: Sequence[dict[str, Any]], size: tuple[int, int] = (128, 64)) -> str:
    """Each strip: query then its top-k gallery images, true matches framed green and wrong
    ones red; with ``maps`` a second row overlays each image's activation map. Drawn as one
    PIL mosaic (a matplotlib grid of hundreds of axes takes seconds)."""
    from PIL import Image, ImageDraw

    h, w = size
    label, gap = 14, 4
    top = max(len(s["gallery"]) for s in strips)
    rows = [(strip, with_map) for strip in strips
            for with_map in ((False, True) if strip.get("maps") is not None else (False,))]
    canvas = Image.new("RGB", ((top + 1) * (w + gap) + gap, len(rows) * (h + label + gap) + gap), "white")
    draw = ImageDraw.Draw(canvas)
    for r, (strip, with_map) in enumerate(rows):
        y = gap + r * (h + label + gap)
        tiles = [strip["query"], *strip["gallery"]]
        for c, tile in enumerate(tiles):
            tile = np.asarray(Image.fromarray(tile).resize((w, h)))
            if with_map:
                heat = np.asarray(Image.fromarray((255 * strip["maps"][c]).astype(np.uint8)).resize((w, h))) / 255.0
                tile = _overlay(tile, heat)
            colour = (0, 0, 0) if c == 0 else ((50, 205, 50) if strip["correct"][c - 1] else (220, 20, 20))
            x = gap + c * (w + gap)
            canvas.paste(Image.fromarray(_framed(tile, colour)), (x, y + label))
            text = (f"q{strip['query_pid']} " + ("map" if with_map else f"AP{strip['ap']:.2f}")) if c == 0 \
                else f"{c}:{strip['gallery_pids'][c - 1]}"
            draw.text((x + 1, y), text, fill=(0, 0, 0))
    buf = io.BytesIO()
    canvas.save(buf, format="PNG")
    return f'<img alt="hardest queries with their top-ranked gallery images" src="{png_uri(buf.getvalue())}">'
