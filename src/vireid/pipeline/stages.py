"""The pipeline's stages, each a cached call into one stage package.

Stages meet only through files: the image index and caption manifests (Parquet) and the
checkpoint. Each stage's cache key holds the fingerprints of exactly what it reads, so
``make train`` after ``make captions`` never re-captions and ``make eval`` never re-trains,
while a changed caption manifest re-runs training and evaluation (and nothing else).
The code version in the key is the package version: bump it when outputs must change.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from vireid import __version__
from vireid.atomic import copy_atomic
from vireid.errors import VireidError, set_resume_hint
from vireid.fingerprint import hash_file
from vireid.manifests import MODALITIES, read_manifest, write_manifest
from vireid.pipeline.cache import run_stage
from vireid.pipeline.layout import RunLayout

if TYPE_CHECKING:  # torch-heavy packages are imported only when a stage trains or evaluates
    from vireid.evaluation.features import FeatureOptions
    from vireid.training.config import TrainConfig

Echo = Callable[[str], None]
REFERENCE = "reference"  # caption source: the synthetic benchmark's reference manifest


def index_stage(run: RunLayout, dataset: str, root: Path, *, trial: int | None = None,
                val_ids: int | None = None, seed: int = 0, force: bool = False,
                echo: Echo = print) -> str:
    """Scan the dataset (cheap: file names only) and rewrite the index only when it changed."""
    from vireid.datasets import build_index, index_metadata
    from vireid.datasets.index import index_fingerprint

    table = build_index(dataset, root, trial=trial, val_ids=val_ids, seed=seed)
    fingerprint = index_fingerprint(table)
    meta = index_metadata(table, dataset=dataset, root=root, trial=trial, val_ids=val_ids, seed=seed)
    run_stage("index", run.stamps, {"index": fingerprint, "vireid": __version__}, [run.index],
              lambda: write_manifest(table, run.index, "image-index", metadata=meta),
              force=force, echo=echo)
    return fingerprint


def captions_stage(run: RunLayout, root: Path, source: str, *, model: str | None = None,
                   options: dict[str, Any] | None = None, modalities: Sequence[str] = MODALITIES,
                   force: bool = False, echo: Echo = print) -> Path:
    """Produce ``run.captions``: LLaVA captions of the index, or the synthetic reference ones.

    ``source`` is ``"llava"``, ``"reference"`` (``<root>/reference_captions.parquet`` of a
    synthetic benchmark) or the path of an existing caption manifest (used as is).
    ``modalities``: the images LLaVA captions (what the method to train needs, ``Method.needs``);
    they are part of the stage's cache key.
    """
    if source not in ("llava", REFERENCE):
        path = Path(source)
        read_manifest(path, "captions")  # validates kind, version and columns
        return path
    if source == REFERENCE:
        from vireid.datasets.synth import CAPTIONS_FILE

        reference = Path(root) / CAPTIONS_FILE
        if not reference.is_file():
            raise VireidError(f"{reference}: no reference captions (only `vireid data synth` "
                              f"datasets have them); use --captions llava or a manifest path")
        run_stage("captions", run.stamps, {"reference": hash_file(reference), "vireid": __version__},
                  [run.captions], lambda: copy_atomic(reference, run.captions), force=force, echo=echo)
        return run.captions

    from vireid.captioning.config import CaptionConfig
    from vireid.captioning.runner import run_captioning

    config = CaptionConfig(**({"model": model} if model else {}), modalities=tuple(modalities), **(options or {}))
    inputs = {"index": hash_file(run.index), "model": config.model,
              "quantization": config.quantization, "prompts": [config.prompt_visible, config.prompt_infrared],
              "generation": config.generation_params(), "splits": list(config.splits),
              "limit": config.limit, "vireid": __version__}
    if set(config.modalities) != set(MODALITIES):  # keys of earlier (every-modality) manifests stay valid
        inputs["modalities"] = sorted(config.modalities)

    def caption() -> None:
        run_captioning(read_manifest(run.index, "image-index"), root, run.captions_dir,
                       config.replace(force=force), log=echo)

    run_stage("captions", run.stamps, inputs, [run.captions], caption, force=force, echo=echo)
    return run.captions


# The inputs a pipeline training was started with (to resume only an attempt of the same inputs).
STAGE_MARKER = "checkpoints/stage-inputs.json"


def pretrain_stage(cfg: TrainConfig, *, echo: Echo = print) -> None:
    """Make the synthetic-web prior a training config names (cached by its fingerprint), with
    its zero-shot checks on the config's test set; nothing for other initialisations."""
    from vireid.pretraining.cache import starts_from_prior

    if not starts_from_prior(cfg.model):
        return
    from vireid.pretraining.runner import run_pretrain

    run_pretrain(cfg.pretrain, benchmark=Path(cfg.data.root), dataset=cfg.data.dataset, show_progress=cfg.run.progress, echo=echo)


def prior_fingerprint(cfg: TrainConfig) -> str | None:
    """The synthetic-web prior's fingerprint when ``cfg`` starts from it, else None."""
    from vireid.pretraining.cache import pretrain_fingerprint, starts_from_prior

    return pretrain_fingerprint(cfg.pretrain) if starts_from_prior(cfg.model) else None


def train_config(run: RunLayout | None, preset: str, dataset: str, root: Path, *, trial: int | None = None,
                 overrides: Sequence[str] = ()) -> TrainConfig:
    """The TrainConfig of ``preset`` (+ ``overrides``) on the run's index, resolved once and then
    passed down (``train_stage``, ``refit_stage``). ``run=None``: without an index, for what must
    be known before the index is built (the selection policy decides its held-out ids, the
    caption modalities what to caption); the index's dataset and trial are settled when it is read."""
    from vireid.training.config import resolve_config

    data: dict[str, Any] = {"dataset": dataset, "root": str(root)}
    if run is not None:
        data["index"] = str(run.index)
    if trial:
        data["trial"] = trial
    return resolve_config(preset, None, list(overrides), {"data": data})


def train_stage(run: RunLayout, cfg: TrainConfig, *, name: str, captions: Path | None = None,
                force: bool = False, echo: Echo = print) -> Path:
    """Train ``cfg`` on the run's index (+ captions) into ``<name>/``; returns the checkpoint to evaluate."""
    from vireid.training.config import config_dict
    from vireid.training.engine import train

    uses_captions = bool(cfg.needs.captions)
    if uses_captions and captions is None:
        raise VireidError(f"preset {cfg.preset or cfg.method} trains on captions: run the captions stage "
                          f"first (make captions) or pass a caption manifest")
    cfg = replace(cfg, data=replace(cfg.data, index=str(run.index),
                                    **({"captions": [str(captions)]} if uses_captions else {})))
    inputs = {"index": hash_file(run.index), "config": config_dict(cfg), "vireid": __version__,
              "captions": hash_file(captions) if uses_captions and captions else None}
    prior = prior_fingerprint(cfg)
    if prior is not None:  # the weights a run starts from are an input too (not in its settings)
        inputs["prior"] = prior
    out = run.method_dir(name)
    pretrain_stage(cfg, echo=echo)

    def fit() -> None:
        # Training happens in a folder next to the method's; the previous model is replaced only
        # after success. A killed attempt of these same inputs (the marker holds the inputs it
        # was started with) resumes from its last.pt; one of other inputs is discarded.
        from vireid.atomic import write_json
        from vireid.fingerprint import hash_json
        from vireid.training.run_dir import RunLock

        with RunLock(out):
            staging = out.parent / f".{out.name}.training"
            marker = staging / STAGE_MARKER
            key = hash_json(inputs)
            try:
                same = json.loads(marker.read_text()).get("inputs") == key
            except (OSError, ValueError, AttributeError):
                same = False
            resume = same and (staging / "checkpoints" / "last.pt").is_file() and not force
            if resume:
                echo(f"[train-{name}] resuming the interrupted run from {staging / 'checkpoints' / 'last.pt'}")
            else:
                shutil.rmtree(staging, ignore_errors=True)
                if (out / "stages").is_dir():  # preparatory stage outputs, reused by fingerprint
                    shutil.copytree(out / "stages", staging / "stages")
                write_json(marker, {"inputs": key})
            set_resume_hint(f"the previous model in {out} is kept; re-run the same command to continue")
            try:
                train(cfg, staging, resume="auto" if resume else None)
            except BaseException:
                if not (staging / "checkpoints" / "last.pt").is_file():  # nothing worth resuming
                    shutil.rmtree(staging, ignore_errors=True)
                raise
            finally:
                set_resume_hint(None)
            swap_in(staging, out)

    run_stage(f"train-{name}", run.stamps, inputs, [run.last_checkpoint(name)], fit, force=force, echo=echo)
    return run.model_checkpoint(name, cfg.run.selection)


def best_epoch(checkpoint: Path) -> int:
    """The epoch best.pt was saved at (a ``val`` run's selection); the final epoch if none."""
    from vireid.models.store import load_checkpoint

    state = load_checkpoint(checkpoint)
    best = state.get("best") or {}
    return int(best.get("epoch") or state["epoch"])


def refit_stage(run_val: RunLayout, run_all: RunLayout, cfg: TrainConfig, *, name: str,
                captions: Path | None = None, force: bool = False, echo: Echo = print) -> tuple[Path, int]:
    """``run.selection = refit``: train on ``run_val``'s index (held-out ids) and keep its best
    epoch E, then retrain on ``run_all``'s index (every training id) for E epochs (same
    schedule, stopped at E) and return that run's final checkpoint and E. Both are cached."""
    chosen = train_stage(run_val, replace(cfg, run=replace(cfg.run, selection="val")), name=name,
                         captions=captions, force=force, echo=echo)
    epochs = best_epoch(chosen)
    echo(f"refit {name}: best held-out epoch {epochs}; retraining on every training id")
    final = train_stage(run_all, replace(cfg, run=replace(cfg.run, selection="refit"),
                                         optim=replace(cfg.optim, epochs=epochs)),
                        name=name, captions=captions, force=force, echo=echo)
    return final, epochs


def swap_in(staging: Path, out: Path) -> None:
    """Replace the previous training's files in ``out`` by the new ones in ``staging``.

    Only files a training wrote are replaced (``.vireid-owned.json``; for an older folder, the
    files named like a run's outputs): ``results/`` and any file of the user's stay, also
    inside ``checkpoints/`` or ``logs/``. Every file in ``staging`` is this stage's.
    """
    from vireid.owned import OWNED_NAME, files_in, move_files, remove_empty_dirs, write_owned
    from vireid.training.run_dir import LOCK_NAME, run_outputs

    out.mkdir(parents=True, exist_ok=True)
    old = out.parent / f".{out.name}.replaced"
    shutil.rmtree(old, ignore_errors=True)
    old.mkdir()
    new = files_in(staging, skip=(LOCK_NAME,))
    previous = run_outputs(out) | ({STAGE_MARKER} & files_in(out))
    move_files(out, old, previous | {OWNED_NAME})
    remove_empty_dirs(out, previous)
    move_files(staging, out, new)
    write_owned(out, new)
    shutil.rmtree(staging, ignore_errors=True)
    shutil.rmtree(old, ignore_errors=True)


def eval_stage(run: RunLayout, method: str, dataset: str, root: Path, checkpoint: Path, *,
               trial: int | None = None, trials: int = 10, options: FeatureOptions | None = None,
               batch_size: int = 64, workers: int = 0, device: str = "cpu",
               force: bool = False, echo: Echo = print, rerank=None) -> dict[str, Any]:
    """Evaluate ``checkpoint`` with the dataset's full protocol into ``<method>/results``
    (with ``rerank``, a :class:`~vireid.evaluation.rerank.RerankOptions`, re-ranked numbers too)."""
    from vireid.evaluation.checkpoint import checkpoint_features
    from vireid.evaluation.features import FeatureOptions
    from vireid.evaluation.outputs import evaluate_table
    from vireid.evaluation.store import save_features

    options = options or FeatureOptions()

    if not Path(checkpoint).is_file():
        raise VireidError(f"{checkpoint}: checkpoint not found (run the train stage first: make train)")
    if not run.index.is_file():  # the test lists' fingerprint: a run folder without its index
        raise VireidError(f"{run.index}: image index not found; this run folder has no index stage "
                          f"(run `make captions` or `vireid pipeline train` for it first)")
    out = run.results_dir(method)
    # The file's name is an input too: "best.pt was deleted, last.pt evaluated" shows as a change
    # of checkpoint_file, and results.json records the path evaluated.
    inputs = {"checkpoint": hash_file(checkpoint), "checkpoint_file": Path(checkpoint).name,
              "test_lists": hash_file(run.index), "trials": trials,
              "trial": trial, "test_features": options.record(), "vireid": __version__}
    if rerank is not None:
        inputs["rerank"] = rerank.to_dict()
    if dataset == "custom":  # query/gallery rows and the gallery rule live in the index files
        from vireid.evaluation.custom import custom_protocol_files

        inputs["protocol_files"] = custom_protocol_files(root)

    def evaluate() -> None:
        echo(f"[eval-{method}] evaluating {checkpoint}")
        table = checkpoint_features(checkpoint, dataset, root, trials=trials, regdb_trial=trial,
                                    options=options, batch_size=batch_size, num_workers=workers, device=device)
        features = save_features(out / "features.npz", table)
        evaluate_table(table, dataset, root, out, trials=trials, regdb_trial=trial,
                       features_file=features, options=options, rerank=rerank)

    run_stage(f"eval-{method}", run.stamps, inputs, [run.results(method)], evaluate, force=force, echo=echo)
    return json.loads(run.results(method).read_text())
