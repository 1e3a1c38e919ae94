"""``vireid pipeline``: the cached stages behind `make captions / train / eval / all / demo`."""

from __future__ import annotations

from pathlib import Path

import typer

from vireid.errors import VireidError
from vireid.manifests import MODALITIES

HELP = """Run pipeline stages with caching: a stage whose inputs are unchanged is skipped.

Every command reads and writes one run folder (--run, default runs/<dataset>[-trial<T>]): manifests/{index.parquet,captions/}, <method>/{checkpoints,logs,results}/ and stages/*.json.

`captions` indexes the dataset and captions it; `train` trains a method from the cached manifests; `eval` evaluates its checkpoint; `all` does the three; `demo` runs everything on a synthetic benchmark on a CPU. --force re-runs a stage even when its inputs are unchanged.
"""

pipeline = typer.Typer(help=HELP, no_args_is_help=True)

DATASET = typer.Option("sysu", "--dataset", help="sysu | regdb | llcm | custom")
ROOT = typer.Option(None, "--root", help="Dataset folder (see README: dataset layouts).")
RUN = typer.Option(None, "--run", help="Run folder [default: runs/<dataset>[-trial<T>]].")
TRIAL = typer.Option(None, "--trial", help="RegDB trial 1..10 (one model per trial).")
FORCE = typer.Option(False, "--force", help="Re-run even if the inputs are unchanged.")
RERANK = typer.Option(False, "--rerank", help="Also report k-reciprocal re-ranked results (k1=20, k2=6, lambda=0.3).")
CAPTIONS = typer.Option("llava", "--captions",
                        help="llava (caption with --model), reference (synthetic data) or a manifest path.")
VAL_IDS = typer.Option(None, "--val-ids", min=0,
                       help="Training ids held out (split=val) to select best.pt [default: ~5%, >= 1 from 10 ids]. "
                            "Give the same value to every stage.")
RECIPE = typer.Option(None, "--recipe",
                      help="paper | authors: merge configs/recipe-<name>.toml under the method preset "
                           "(docs/methods/eees.md). Give the same value to every stage.")
METHOD = typer.Option("eees", "--method",
                      help="Training preset: [tiny-]<variant>[-<dataset>] (variants: `vireid methods`).")


def _context(dataset: str, root: Path | None, run: Path | None, trial: int | None):
    from vireid.pipeline.layout import RunLayout, default_run_dir

    if root is None:
        raise VireidError("--root is required: the dataset folder (see README: dataset layouts)")
    if not root.is_dir():
        raise VireidError(f"{root}: dataset root not found")
    return RunLayout(run or default_run_dir(dataset, trial)), root


def _train_overrides(method: str, recipe: str | None, overrides: list[str] | None,
                     val_ids: int | None, layout, dataset: str, root: Path, trial: int | None):
    """The run's TrainConfig before its index exists (preset + overrides + ``recipe=``: what
    decides the index's held-out ids and the caption modalities) and the index's held-out id
    count for its policy: ``run.selection = last`` trains on every training id, so its index
    holds none out. ``cfg.preset`` / the overrides then resolve on the built index (train_config)."""
    from vireid.pipeline.stages import train_config

    extra = list(overrides or []) + ([f"recipe={recipe}"] if recipe else [])
    cfg = train_config(None, method, dataset, root, trial=trial, overrides=extra)  # the index is built next
    selection = cfg.run.selection
    if selection == "refit":
        raise VireidError("run.selection=refit trains twice (held-out ids, then all ids): use "
                          "`vireid reproduce --selection refit`, or train with selection val or last")
    if selection == "last" and val_ids is None:
        val_ids = 0
    return cfg, val_ids


def _on_index(layout, method: str, dataset: str, root: Path, trial: int | None, overrides: list[str] | None,
              recipe: str | None):
    """The training config on the run's (now built) index."""
    from vireid.pipeline.stages import train_config

    extra = list(overrides or []) + ([f"recipe={recipe}"] if recipe else [])
    return train_config(layout, method, dataset, root, trial=trial, overrides=extra)


def _captions(layout, dataset, root, trial, val_ids, captions, model, quantization, batch_size, limit, force,
              modalities=MODALITIES):
    from vireid.pipeline.stages import captions_stage, index_stage

    index_stage(layout, dataset, root, trial=trial, val_ids=val_ids, force=force, echo=typer.echo)
    options = {"quantization": quantization, "batch_size": batch_size}
    if limit:
        options["limit"] = limit
    return captions_stage(layout, root, captions, model=model, options=options, modalities=modalities,
                          force=force, echo=typer.echo)


def _existing_captions(layout, captions: str) -> Path | None:
    if captions not in ("llava", "reference"):
        return Path(captions)
    return layout.captions if layout.captions.is_file() else None


@pipeline.command("captions")
def captions_cmd(dataset: str = DATASET, root: Path = ROOT, run: Path = RUN, trial: int = TRIAL,
                 val_ids: int = VAL_IDS, captions: str = CAPTIONS,
                 model: str = typer.Option(None, "--model", help="LLaVA hub id or local folder."),
                 quantization: str = typer.Option("4bit", "--quantization", help="4bit | 8bit | none"),
                 batch_size: int = typer.Option(16, "--batch-size", min=1),
                 limit: int = typer.Option(0, "--limit", min=0, help="Caption only the first N images."),
                 force: bool = FORCE) -> None:
    """Index the dataset and caption its training images into the run's caption manifest."""
    layout, root = _context(dataset, root, run, trial)
    path = _captions(layout, dataset, root, trial, val_ids, captions, model, quantization, batch_size,
                     limit, force)
    typer.echo(f"captions: {path}")


@pipeline.command("train")
def train_cmd(dataset: str = DATASET, root: Path = ROOT, run: Path = RUN, trial: int = TRIAL,
              val_ids: int = VAL_IDS, method: str = METHOD, captions: str = CAPTIONS,
              recipe: str = RECIPE,
              overrides: list[str] = typer.Option(None, "--set", help="KEY=VALUE config override."),
              force: bool = FORCE) -> None:
    """Train METHOD from the run's cached manifests (never re-captions)."""
    from vireid.pipeline.stages import index_stage, train_stage

    layout, root = _context(dataset, root, run, trial)
    cfg, val_ids = _train_overrides(method, recipe, overrides, val_ids, layout, dataset, root, trial)
    index_stage(layout, dataset, root, trial=trial, val_ids=val_ids, echo=typer.echo)
    cfg = _on_index(layout, method, dataset, root, trial, overrides, recipe)
    checkpoint = train_stage(layout, cfg, name=method, captions=_existing_captions(layout, captions),
                             force=force, echo=typer.echo)
    typer.echo(f"checkpoint: {checkpoint}")


@pipeline.command("eval")
def eval_cmd(dataset: str = DATASET, root: Path = ROOT, run: Path = RUN, trial: int = TRIAL,
             method: str = METHOD, trials: int = typer.Option(10, "--trials", min=1, max=10),
             device: str = typer.Option("cpu", "--device", help="cpu | cuda | cuda:N."),
             force: bool = FORCE, rerank: bool = RERANK) -> None:
    """Evaluate METHOD's checkpoint with the dataset's full protocol (never re-trains)."""
    from vireid.evaluation.report import format_table
    from vireid.pipeline.stages import eval_stage

    layout, root = _context(dataset, root, run, trial)
    checkpoint = layout.model_checkpoint(method)
    record = eval_stage(layout, method, dataset, root, checkpoint, trial=trial, trials=trials,
                        device=device, force=force, echo=typer.echo, rerank=_rerank(rerank))
    typer.echo(format_table(record["results"], record))
    typer.echo(f"checkpoint: {record.get('checkpoint') or checkpoint}")
    typer.echo(f"results: {layout.results(method)}")


@pipeline.command("all")
def all_cmd(dataset: str = DATASET, root: Path = ROOT, run: Path = RUN, trial: int = TRIAL,
            val_ids: int = VAL_IDS, method: str = METHOD, captions: str = CAPTIONS,
            recipe: str = RECIPE,
            model: str = typer.Option(None, "--model", help="LLaVA hub id or local folder."),
            quantization: str = typer.Option("4bit", "--quantization", help="4bit | 8bit | none (none on a CPU)"),
            batch_size: int = typer.Option(16, "--batch-size", min=1, help="Captioning batch size."),
            limit: int = typer.Option(0, "--limit", min=0, help="Caption only the first N images."),
            device: str = typer.Option("cpu", "--device", help="Evaluation device: cpu | cuda | cuda:N."),
            overrides: list[str] = typer.Option(None, "--set", help="KEY=VALUE training config override (repeatable), as for `pipeline train`."),
            force: bool = FORCE, rerank: bool = RERANK) -> None:
    """captions, then train, then eval (each cached); takes the captioning options of `captions`
    and the --set overrides of `train`."""
    from vireid.evaluation.report import format_table
    from vireid.pipeline.stages import eval_stage, train_stage
    from vireid.training.config import recipe_eval_options

    layout, root = _context(dataset, root, run, trial)
    cfg, val_ids = _train_overrides(method, recipe, overrides, val_ids, layout, dataset, root, trial)
    needed = cfg.needs.captions  # the modalities this method trains on captions of
    if needed:
        caption_path = _captions(layout, dataset, root, trial, val_ids, captions, model, quantization,
                                 batch_size, limit, force, modalities=needed)
    else:
        from vireid.pipeline.stages import index_stage

        index_stage(layout, dataset, root, trial=trial, val_ids=val_ids, force=force, echo=typer.echo)
        caption_path = None
    cfg = _on_index(layout, method, dataset, root, trial, overrides, recipe)
    checkpoint = train_stage(layout, cfg, name=method, captions=caption_path, force=force, echo=typer.echo)
    record = eval_stage(layout, method, dataset, root, checkpoint, trial=trial, device=device,
                        force=force, echo=typer.echo, rerank=_rerank(rerank),
                        options=recipe_eval_options(recipe or ""))
    typer.echo(format_table(record["results"], record))


def _rerank(rerank: bool):
    """The default re-ranking options with --rerank, else None."""
    from vireid.evaluation.rerank import RerankOptions

    return RerankOptions() if rerank else None


@pipeline.command("demo")
def demo_cmd(out: Path = typer.Option(Path("runs/demo"), "--out", help="Demo run folder."),
             ids: int = typer.Option(136, "--ids", help="Synthetic identities (95 of the default 136 are test ids)."),
             images_per_camera: int = typer.Option(6, "--images-per-camera"),
             val_ids: int = typer.Option(8, "--val-ids", help="Training ids held out to select best.pt."),
             epochs: int = typer.Option(0, "--epochs", help="0 = the tiny presets' schedule."),
             trials: int = typer.Option(10, "--trials", min=1, max=10),
             llava_images: int = typer.Option(16, "--llava-images", help="Captioning plumbing slice (0 = skip)."),
             methods: list[str] = typer.Option(None, "--method",
                                               help="A variant to train at tiny scale (repeatable) "
                                                    "[default: eees and baseline]."),
             overrides: list[str] = typer.Option(
                 None, "--set", help="KEY=VALUE override for every training, e.g. model.pretrained=none (random init)."),
             force: bool = FORCE) -> None:
    """The whole pipeline on a synthetic benchmark on a CPU: the tiny CLIP prior, then tiny variants side by side."""
    from vireid.pipeline.demo import DemoConfig, run_demo

    chosen = {"methods": tuple(methods)} if methods else {}
    run_demo(out, DemoConfig(ids=ids, images_per_camera=images_per_camera, val_ids=val_ids, epochs=epochs,
                             trials=trials, llava_images=llava_images, overrides=tuple(overrides or ()), **chosen), force=force, echo=typer.echo)


def register(app: typer.Typer) -> None:
    """Add the ``vireid pipeline`` group to the root CLI."""
    app.add_typer(pipeline, name="pipeline")
