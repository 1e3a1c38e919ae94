"""``vireid reproduce``: train every row of a paper table over seeds and write the table."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

HELP = """Reproduce a table of a registered method's paper (or compare every registered method).

--table KEY: a paper table a method ships (`vireid methods` lists each method's tables and their rows). --table methods: the default variant of every registered method.

Each row is trained --seeds times (seeds 0..N-1; RegDB: one model per trial 1..--trials), evaluated with the dataset's full protocol, and written to OUT/table<N>.md, .json and .png: mean ± std over seeds next to the published numbers. Finished (row, seed) units are cached: a killed run started again resumes.

--shard I/N splits a table: N processes (or machines sharing OUT) each train every N-th unit; a last run without --shard writes the table from the cached units.

--rerank also evaluates every model with k-reciprocal re-ranking (k1=20, k2=6, lambda=0.3) and prints each setting's re-ranked row next to the plain one.

--scale tiny runs the tiny presets (CPU). --recipe authors (default) / paper / none: the shared recipes in vireid/configs/recipe-<name>.toml (docs/methods/eees.md).
"""


def reproduce_command(
    table: str = typer.Option(..., "--table", help="A paper table's key (see `vireid methods`) or methods."),
    dataset: str = typer.Option("sysu", "--dataset", help="sysu | regdb | llcm | custom"),
    root: Path = typer.Option(..., "--root", help="Dataset folder."),
    out: Path = typer.Option(..., "--out", "-o", help="Output folder (models, tables)."),
    scale: str = typer.Option("full", "--scale", help="full (the paper's presets) | tiny (CPU presets)"),
    seeds: Optional[int] = typer.Option(
        None, "--seeds", min=1,
        help="Seeds per row (0..N-1) (default: 3 at --scale tiny, enough for the paper's smallest Table 3 "
             "difference, +2.5 R1, to exceed 2x the combined std at the measured tiny seed std of 1.4 R1; "
             "1 at --scale full)."),
    recipe: str = typer.Option("authors", "--recipe", help="authors | paper | none"),
    selection: str = typer.Option("", "--selection", help="last | val | refit [default: the recipe's]"),
    captions: str = typer.Option("", "--captions",
                                 help="llava | reference | a manifest path [default: reference for synthetic data, else llava]"),
    trials: int = typer.Option(10, "--trials", min=1, max=10, help="RegDB: trials trained; SYSU/LLCM: gallery trials."),
    device: str = typer.Option("auto", "--device", help="auto | cpu | cuda"),
    overrides: list[str] = typer.Option(None, "--set", help="KEY=VALUE override for every row."),
    force: bool = typer.Option(False, "--force", help="Retrain and re-evaluate every unit."),
    rerank: bool = typer.Option(False, "--rerank", help="Also report k-reciprocal re-ranked results (k1=20, k2=6, lambda=0.3)."),
    shard: str = typer.Option("1/1", "--shard", metavar="I/N",
                              help="Train only units I, I+N, I+2N, ... of the table (no table written): "
                                   "N processes or machines sharing --out split the work; a run without "
                                   "--shard afterwards writes the table from the cached units."),
) -> None:
    from vireid.errors import ConfigError
    from vireid.reproduce.runner import ReproduceConfig, default_seeds, reproduce

    seeds = seeds if seeds is not None else default_seeds(scale)
    parts = shard.split("/")
    if len(parts) != 2 or not all(p.strip().isdigit() for p in parts):
        raise ConfigError(f"--shard: I/N such as 1/2, got {shard!r}")
    cfg = ReproduceConfig(table=table, dataset=dataset, root=root, out=out, scale=scale, seeds=seeds,
                          recipe="" if recipe == "none" else recipe, selection=selection, captions=captions,
                          trials=trials, device=device, overrides=tuple(overrides or ()), force=force, rerank=rerank,
                          shard=(int(parts[0]), int(parts[1])))
    reproduce(cfg, echo=typer.echo)


def register(app: typer.Typer) -> None:
    """Add ``vireid reproduce`` to the root CLI."""
    app.command("reproduce", help=HELP, no_args_is_help=True)(reproduce_command)
