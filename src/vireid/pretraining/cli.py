"""``vireid pretrain``: the synthetic-web CLIP prior of the tiny presets (docs/pretrain.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

HELP = """Pretrain the tiny CLIP (both towers) on a synthetic "web" corpus: a disjoint world of
1,600 people, web-style partial and noisy captions, 15% greyscale photos, no infrared,
CLIP's symmetric InfoNCE with a learnable logit scale (design: docs/pretrain.md).

The weights are written as an OpenAI CLIP state dict to $VIREID_CACHE/pretrain/<fingerprint>/
(~/.cache/vireid without VIREID_CACHE) and re-used while the settings are unchanged;
tiny presets load them with model.pretrained = "synthetic-web". Prints, and writes to
summary.json, zero-shot caption->image retrieval on held-out web people and, with
--benchmark, zero-shot re-id on that dataset's test set, each beside chance.
"""


def pretrain_command(
    set_: Optional[list[str]] = typer.Option(None, "--set", help="Change a setting: --set steps=60 (keys of [pretrain], docs/pretrain.md)."),
    seed: Optional[int] = typer.Option(None, "--seed", help="Seed of the corpus, the initialisation and the batch order (default 0)."),
    benchmark: Optional[Path] = typer.Option(None, "--benchmark", help="Also run zero-shot re-id on this dataset folder's test set."),
    dataset: str = typer.Option("sysu", "--dataset", help="Layout of --benchmark: sysu, regdb or llcm."),
    force: bool = typer.Option(False, "--force", help="Pretrain again even when cached weights exist."),
    progress: bool = typer.Option(True, "--progress/--no-progress", help="Progress bar on a terminal, a line a minute in logs."),
) -> None:
    from vireid.config import apply_overrides, from_dict, to_dict
    from vireid.pretraining.config import PretrainConfig
    from vireid.pretraining.runner import run_pretrain

    data = apply_overrides(to_dict(PretrainConfig()), set_ or [])
    if seed is not None:
        data["seed"] = seed
    cfg = from_dict(PretrainConfig, data, prefix="pretrain.")
    summary = run_pretrain(cfg, benchmark=benchmark, dataset=dataset, force=force, show_progress=progress,
                           echo=typer.echo)
    typer.echo(f"summary: {Path(summary['weights']).parent / 'summary.json'}")


def register(app: typer.Typer) -> None:
    """Add ``vireid pretrain`` to the root app."""
    app.command("pretrain", help=HELP)(pretrain_command)
