"""The method-agnostic trainer: setup, the training step, the epoch loop, checkpoints and validation.

The configured method (``vireid.methods``) supplies the network, its preparatory stages and
its objective; the trainer does sampling -> augmentation -> objective -> backward -> logging,
checkpoints and validation for any of them and names none.

Run directory::

    <out>/config.json                      resolved config, fingerprints, seed, provenance
    <out>/checkpoints/last.pt              after every epoch (the last good state)
    <out>/checkpoints/best.pt              best val/mAP on held-out training identities
    <out>/checkpoints/epoch_N.pt           every run.checkpoint_every epochs
    <out>/logs/{train.csv,train.jsonl,tb/,loss_curve.png}  (+ stage_<name>.jsonl per stage)
    <out>/stages/<name>.pt                 preparatory stage outputs (cached by fingerprint)
    <out>/.vireid-run.lock                 the owning run while it runs (training.run_dir)
    <out>/.vireid-owned.json               the files above that this run wrote (--force replaces only them)

Exact resume: batches depend only on (seed, epoch), augmentation and CVSC partner draws on
generators seeded per (seed, epoch, step, stream), and the checkpoint holds model, optimiser,
scheduler, sampler, global RNG states and the log history. On CPU a resumed run therefore
reproduces the uninterrupted run's losses exactly.
"""

from __future__ import annotations

import math
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

from vireid.atomic import write_json
from vireid.config import to_dict
from vireid.errors import VireidError
from vireid.fingerprint import hash_json, provenance
from vireid.training.augment import SECOND_VIEW_STREAM, augment_batch, make_generator, step_seed, visible_views
from vireid.training.cache import ImageCache, build_cache
from vireid.methods import Objective, StageContext, TrainBatch, resolve
from vireid.pretraining.cache import resolve_pretrained
from vireid.models.store import VERSION, load_checkpoint, model_checkpoint_state, save_checkpoint
from vireid.tokenizer import CaptionTokenCache
from vireid.rng import rng_state, set_rng_state
from vireid.training.checkpoint import resolve_resume
from vireid.training.config import TrainConfig, config_dict
from vireid.training.data import TrainData, load_train_data
from vireid.training.loader import BatchPrefetcher
from vireid.training.optim import build_optimizer, build_scheduler
from vireid.training.runtime import default_cache_dir, make_accelerator, seed_everything
from vireid.progress import Ticker, interactive
from vireid.training.run_dir import RunDir
from vireid.training.sampler import CrossModalitySampler
from vireid.training.stages import run_stages
from vireid.training.train_log import RunLogger, write_jsonl
from vireid.training.validation import cached_features, validate

BEST_METRIC = "val/mAP"


class NonFiniteLossError(VireidError):
    """The loss became NaN or infinite; training stopped, the last good checkpoint is kept."""


class ResumeError(VireidError):
    """A checkpoint cannot be resumed with this configuration or data."""


@dataclass
class TrainResult:
    run_dir: Path
    last: Path
    best: Path | None
    history: list[dict[str, Any]]
    metrics: dict[str, float] = field(default_factory=dict)
    is_main: bool = True  # False on the other processes of a DDP run
    already_trained: int | None = None  # set when a resumed run had nothing left to train


def _say(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


class Trainer:
    """One training run of ``cfg`` into ``run_dir`` (optionally resumed)."""

    def __init__(self, cfg: TrainConfig, run_dir: str | Path, *, resume: str | None = None,
                 force: bool = False):
        self.cfg = cfg
        self.run_dir = Path(run_dir)
        self.ckpt_dir = self.run_dir / "checkpoints"
        self.acc = make_accelerator(cfg.run)
        self.device = self.acc.device
        self.is_main = self.acc.is_main_process
        # One run owns the folder (lock); a folder holding a run needs --resume or --force.
        self.owner = RunDir(self.run_dir, resume=resume is not None, force=force)
        if self.is_main:
            self.owner.claim()
        try:
            self.resume_path = resolve_resume(resume, self.run_dir) if resume else None
            self._resume_state = load_checkpoint(self.resume_path) if self.resume_path else None
            if self._resume_state is not None:
                self._check_same_method(self._resume_state)
            self.finished = self._check_epochs(self._resume_state)
            self.last_good: int | None = None  # epoch of the checkpoint last.pt holds (finite weights)
            if self.finished:
                return
            self.method = resolve(cfg.method).method
            seed_everything(cfg.run.seed + self.acc.process_index)
            self._setup_data()
            self._setup_model()
            if self.resume_path is not None and self.resume_path == self.ckpt_dir / "last.pt":
                self.last_good = self.start_epoch
        except BaseException:
            self.owner.abandon()
            raise

    def _check_epochs(self, state: dict[str, Any] | None) -> bool:
        """True when the resumed checkpoint already trained every epoch; a checkpoint with more
        epochs than configured is an error."""
        if state is None:
            return False
        done, total = int(state.get("epoch", 0)), self.cfg.optim.epochs
        if done > total:
            raise ResumeError(f"{self.resume_path}: already trained {done} epochs, more than the "
                              f"{total} configured (optim.epochs); resume with --epochs {done} or more, "
                              f"or start a new run with --force")
        if done == total:
            self._check_same_settings(state)
        return done == total

    def _check_same_method(self, state: dict[str, Any]) -> None:
        """Another method cannot continue a checkpoint: say so first, before any data check
        (whose complaint about captions would point the user the wrong way)."""
        saved = state.get("train_config") or {}
        if saved.get("method", self.cfg.method) != self.cfg.method:
            was = saved.get("preset") or saved.get("method")
            raise ResumeError(f"{self.resume_path}: trained with method {saved.get('method')!r} (preset "
                              f"{was!r}), not {self.cfg.method!r} (preset {self.cfg.preset or self.cfg.method!r}); "
                              f"resume with --preset {was}, or start a new run with --force or another --out")

    def _check_same_settings(self, state: dict[str, Any]) -> None:
        """A finished run is only "already trained" for the settings it was trained with."""
        saved, now = state.get("train_config", {}), config_dict(self.cfg)
        runtime = {"workers", "cache_dir"}  # how data is read, not what is trained on

        def what(section: dict[str, Any] | None) -> dict[str, Any]:
            return {k: v for k, v in (section or {}).items() if k not in runtime}

        changed = [k for k in ("method", "model", self.cfg.family, "sampler", "augment")
                   if saved.get(k) != now.get(k)]
        changed += ["data"] if what(saved.get("data")) != what(now.get("data")) else []
        if changed:
            raise ResumeError(f"{self.resume_path}: this finished run was trained with other settings "
                              f"({', '.join(changed)}); start a new run (--force or another --out)")

    # -- setup -----------------------------------------------------------------------------
    def _setup_data(self) -> None:
        cfg = self.cfg
        self.needs = self.method.needs(cfg.method_config)
        self.data: TrainData = load_train_data(cfg.data, caption_modalities=self.needs.captions,
                                               seed=cfg.run.seed)
        train = self.data.train
        self.labels = np.asarray(train.column("label").to_numpy(), dtype=np.int64)
        self.modalities = np.asarray(train.column("modality").to_pylist())
        self.sampler = CrossModalitySampler(
            self.labels, self.modalities, cfg.sampler.batch_ids, cfg.sampler.per_modality,
            cfg.run.seed, max_batches=cfg.sampler.max_batches,
            rank=self.acc.process_index, world_size=self.acc.num_processes)
        h, w = cfg.model.image_size
        cache_dir = Path(cfg.data.cache_dir) if cfg.data.cache_dir else default_cache_dir()
        show = cfg.run.progress and self.is_main
        with self.acc.main_process_first():  # rank 0 builds, the others then reuse
            self.train_cache: ImageCache = build_cache(
                train.column("image_id").to_pylist(), self.data.paths(train), h, w, cache_dir,
                workers=cfg.data.workers, progress=show)
            self.val_cache: ImageCache | None = None
            if self.data.val.num_rows:
                val = self.data.val
                self.val_cache = build_cache(val.column("image_id").to_pylist(),
                                             self.data.paths(val), h, w, cache_dir,
                                             workers=cfg.data.workers, progress=show)
        self.tokens: torch.Tensor | None = None
        if self.needs.captions:
            captions = train.column("caption").to_pylist()
            with self.acc.main_process_first():
                token_cache = CaptionTokenCache.load_or_build(
                    captions, cache_dir / f"tokens-{self.train_cache.key}-{hash_json(captions)[:16]}.pt")
            self.tokens = token_cache.tokens
        self.fingerprints = {**self.data.fingerprints, "image_cache": self.train_cache.key}
        if self.is_main:
            for line in self.data.warnings:
                tqdm.write(f"warning: {line}")
            if self.sampler.skipped_labels:
                skipped = self.sampler.skipped_labels
                tqdm.write(f"warning: {len(skipped)} training identities have images of one modality "
                           f"only and are left out of training (labels {skipped[:5]}"
                           f"{', ...' if len(skipped) > 5 else ''}; `vireid data check` lists them)")
        if cfg.run.selection == "last" and self.data.val.num_rows and self.is_main:
            tqdm.write(f"warning: run.selection=last trains on every training identity, but the image "
                       f"index holds {self.data.val.num_rows} held-out (split=val) images that are not "
                       f"trained on; build the index with --val-ids 0")

    def _setup_model(self) -> None:
        cfg = self.cfg
        model = self.method.build_model(resolve_pretrained(cfg.model, cfg.pretrain), self.data.num_classes,
                                        cfg.method_config)
        model = model.to(self.device)
        self.channels_last = cfg.run.channels_last and self.device.type == "cuda"
        if self.channels_last:
            model = model.to(memory_format=torch.channels_last)
        self.model = model
        state = self._resume_state
        if state is not None:
            self._check_resumable(state)
            model.load_state_dict(state["model"])
        self.stage_outputs, self.stage_prints = self._run_stages(state)
        objective: Objective = self.method.objective(cfg.method_config, model, self.stage_outputs)
        if state is not None:
            objective.load_extra_state(state.get("method_state", {}))
        groups = {k: v for k, v in objective.param_groups().items() if v}
        optimizer = build_optimizer(groups, cfg.optim)
        self.scheduler = build_scheduler(optimizer, cfg.optim)
        self.objective = objective
        self.module, self.optimizer = self.acc.prepare(objective, optimizer)
        self.start_epoch = 0
        self.history: list[dict[str, Any]] = []
        self.best: dict[str, Any] = {}
        if state is not None:
            self.optimizer.load_state_dict(state["optimizer"])
            self.scheduler.load_state_dict(state["scheduler"])
            self.sampler.load_state_dict(state["sampler"])
            set_rng_state(state["rng"])
            self.start_epoch = int(state["epoch"])
            self.history = list(state.get("history", []))
            self.best = dict(state.get("best", {}))
        self.config_history = self._config_history(state)

    def _config_history(self, state: dict[str, Any] | None) -> list[dict[str, Any]]:
        """Settings changed on resume, each with the epoch from which it took effect: the run's
        config.json then never claims the last value for the whole run."""
        if state is None:
            return []
        history = [dict(item) for item in state.get("config_history", [])]
        changes = config_changes(state.get("train_config") or {}, config_dict(self.cfg))
        if changes:
            history.append({"from_epoch": self.start_epoch + 1, "changes": changes})
            if self.is_main:
                said = ", ".join(f"{k} {v['was']!r} -> {v['now']!r}" for k, v in changes.items())
                _say(f"warning: resumed with changed settings from epoch {self.start_epoch + 1} on: "
                     f"{said} (recorded in config.json config_history)")
        return history

    def _run_stages(self, state: dict[str, Any] | None) -> tuple[dict[str, dict], dict[str, str]]:
        """The method's preparatory stages (from the checkpoint on resume, else cached or run)."""
        stages = self.method.stages(self.cfg.method_config)
        if not stages:
            return {}, {}
        cfg = self.cfg
        captions = self.data.train.column("caption").to_pylist() if self.needs.captions else None

        def image_features(key: str = "proj") -> torch.Tensor:
            return cached_features(self.model, self.train_cache, self.modalities, feature=key,
                                           device=self.device, channels_last=self.channels_last,
                                           autocast=self.acc.autocast, normalize=False)

        def make_context(save_progress, load_progress) -> StageContext:
            return StageContext(model=self.model, num_classes=self.data.num_classes, labels=self.labels,
                                modalities=self.modalities, captions=captions, device=self.device,
                                seed=cfg.run.seed, autocast=self.acc.autocast, image_features=image_features,
                                log=self._log, progress=cfg.run.progress and self.is_main and interactive(),
                                save_progress=save_progress, load_progress=load_progress,
                                run_dir=self.run_dir)

        base = {"data": self.fingerprints, "model": to_dict(cfg.model), "seed": cfg.run.seed,
                "method": cfg.family, "processes": self.acc.num_processes}
        saved = state.get("stages") if state is not None else None
        return run_stages(stages, make_context, self.run_dir / "stages", base_fingerprint=base,
                          saved=saved, write=self.is_main, log=self._log)

    def _log(self, line: str) -> None:
        if self.is_main and self.cfg.run.progress:
            tqdm.write(line)

    def _check_resumable(self, state: dict[str, Any]) -> None:
        path = self.resume_path
        if state.get("version") != VERSION:
            raise ResumeError(f"{path}: written by checkpoint layout version {state.get('version')}; "
                              f"this vireid resumes version {VERSION} only (the file still evaluates: "
                              f"vireid eval --checkpoint {path}); start a new run")
        if state.get("num_classes") != self.data.num_classes:
            raise ResumeError(f"{path}: trained for {state.get('num_classes')} identities, the data "
                              f"has {self.data.num_classes}")
        old = state.get("fingerprints", {})
        changed = sorted(k for k in set(old) | set(self.fingerprints)
                         if old.get(k) != self.fingerprints.get(k))
        if changed:
            raise ResumeError(f"{path}: the training data changed since this checkpoint "
                              f"({', '.join(changed)}); start a new run instead of resuming")
        saved_cfg = state.get("train_config", {})
        now = config_dict(self.cfg)
        for section in ("model", "method", self.cfg.family):
            if saved_cfg.get(section) != now.get(section):
                raise ResumeError(f"{path}: config section {section!r} differs from the checkpoint's; "
                                  "resume with the same preset and overrides")

    # -- the step ----------------------------------------------------------------------------
    def _step(self, loaded, epoch: int, step: int) -> tuple[list[str], torch.Tensor]:
        """One optimisation step; returns the loss-term names and their values (on device)."""
        cfg, dev = self.cfg, self.device
        stream = 4 * self.acc.process_index
        seed = cfg.run.seed
        vis = loaded.visible.to(dev, non_blocking=True)
        ir = loaded.infrared.to(dev, non_blocking=True)
        mean, std = self.model.pixel_mean, self.model.pixel_std
        extra: tuple[torch.Tensor, ...] = ()
        vis_gen = make_generator(dev, step_seed(seed, epoch, step, stream))
        if cfg.augment.second_visible_view:
            second_gen = make_generator(dev, step_seed(seed, epoch, step, stream + SECOND_VIEW_STREAM))
            vis, second = visible_views(vis, cfg.augment, mean, std, vis_gen, second_gen)
            extra = (second,)
        else:
            vis = augment_batch(vis, cfg.augment, mean, std, vis_gen, visible=True)
        ir = augment_batch(ir, cfg.augment, mean, std,
                           make_generator(dev, step_seed(seed, epoch, step, stream + 1)), visible=False)
        if self.channels_last:
            vis = vis.contiguous(memory_format=torch.channels_last)
            ir = ir.contiguous(memory_format=torch.channels_last)
            extra = tuple(x.contiguous(memory_format=torch.channels_last) for x in extra)
        batch = loaded.batch
        labels = torch.from_numpy(np.concatenate([batch.labels, batch.labels])).to(dev)
        tokens = None
        if self.tokens is not None:
            rows = torch.from_numpy(np.concatenate([batch.visible, batch.infrared]))
            tokens = self.tokens[rows].to(dev, non_blocking=True)
        loss_gen = make_generator("cpu", step_seed(seed, epoch, step, stream + 2))
        every = cfg.run.grad_norm_every
        with self.acc.autocast():
            result = self.module(TrainBatch(visible=vis, infrared=ir, labels=labels, tokens=tokens,
                                            generator=loss_gen, epoch=epoch, step=step,
                                            extra_visible=extra))
        if every and step % every == 0:
            for key, value in result.grad_norms().items():
                self._grad_sums[key] = self._grad_sums.get(key, 0.0) + float(value)
                self._grad_counts[key] = self._grad_counts.get(key, 0) + 1
        names = list(result.terms)
        values = torch.stack([result.terms[n].detach().float() for n in names])
        self.optimizer.zero_grad(set_to_none=True)
        self.acc.backward(result.total)
        if cfg.optim.grad_clip > 0:
            self.acc.clip_grad_norm_(self.module.parameters(), cfg.optim.grad_clip)
        self.optimizer.step()
        return names, values

    def _account(self, epoch: int, step: int, names: list[str], values: torch.Tensor) -> dict[str, float]:
        """Bring one step's loss terms to the host and stop on NaN/inf.

        Called one step late, so reading the values does not stall the GPU queue (the next
        step is already launched). A non-finite step has then updated the weights in memory,
        but nothing is saved after it: the last checkpoint stays the last good state.
        """
        terms = dict(zip(names, values.tolist()))
        finite = all(math.isfinite(v) for v in terms.values())
        if self.acc.num_processes > 1:  # every process must stop together, or DDP hangs
            flag = torch.tensor([0.0 if finite else 1.0], device=self.device)
            finite = float(self.acc.reduce(flag, reduction="sum")) == 0.0
        if not finite:
            raise NonFiniteLossError(self._nan_message(epoch, step, terms))
        return terms

    def _nan_message(self, epoch: int, step: int, terms: dict[str, float]) -> str:
        bad = ", ".join(f"{k}={v}" for k, v in terms.items())
        return (f"loss is not finite at epoch {epoch + 1}, step {step + 1} ({bad}); training "
                f"stopped and {self._kept()}. Lower the learning rates (optim.lr_*), enable "
                f"optim.grad_clip, or check the inputs")

    def _kept(self) -> str:
        """What survives a non-finite stop: only a checkpoint with finite weights is "good"."""
        last = self.ckpt_dir / "last.pt"
        if self.last_good and last.is_file():
            return f"the last good checkpoint {last} (after epoch {self.last_good}) is kept"
        return "no checkpoint with finite weights was written"

    def _train_epoch(self, epoch: int) -> dict[str, float]:
        self.module.train()
        self.sampler.set_epoch(epoch)
        loader = BatchPrefetcher(self.sampler, self.train_cache, workers=self.cfg.data.workers,
                                 depth=2 * self.cfg.data.workers,
                                 pin_memory=self.device.type == "cuda")
        sums: dict[str, float] = {}
        self._grad_sums: dict[str, float] = {}
        self._grad_counts: dict[str, int] = {}
        steps = 0
        start = time.perf_counter()
        show = self.cfg.run.progress and self.is_main
        desc = f"epoch {epoch + 1}/{self.cfg.optim.epochs}"
        # A bar only on a terminal; into a log file a line at most every LOG_EVERY_S seconds.
        bar = tqdm(loader, total=len(self.sampler), desc=desc, unit="batch", leave=False,
                   disable=not (show and interactive()))
        ticker = Ticker(desc, len(self.sampler), "batch", enabled=show and not interactive())
        pending = None

        def account(item) -> None:
            nonlocal steps
            terms = self._account(epoch, *item)
            for k, v in terms.items():
                sums[k] = sums.get(k, 0.0) + v
            steps += 1
            elapsed = time.perf_counter() - start
            postfix = {"img_s": f"{steps * self.sampler.images_per_batch / elapsed:.0f}",
                       **{k: f"{v:.3f}" for k, v in terms.items()}}
            bar.set_postfix(**postfix)
            ticker.update(**postfix)

        for step, loaded in enumerate(bar):
            names, values = self._step(loaded, epoch, step)
            if pending is not None:
                account(pending)
            pending = (step, names, values)
        if pending is not None:
            account(pending)
        bar.close()
        if self.device.type == "cuda":
            torch.cuda.synchronize()
        seconds = time.perf_counter() - start
        names = sorted(sums)
        means = torch.tensor([sums[k] / max(steps, 1) for k in names], device=self.device)
        means = self.acc.reduce(means, reduction="mean").tolist() if self.acc.num_processes > 1 else means.tolist()
        images = steps * self.sampler.images_per_batch * self.acc.num_processes
        stats = {f"loss/{k}": float(v) for k, v in zip(names, means)}
        # ||d(weight * term) / d proj|| per term, mean over the probed steps (this process's batches).
        stats.update({f"grad/{k}": v / self._grad_counts[k] for k, v in sorted(self._grad_sums.items())})
        stats.update({"steps": steps, "time/epoch_s": seconds, "images_per_s": images / seconds,
                      "steps_per_s": steps / seconds, "data_share": loader.wait_seconds / seconds})
        return stats

    # -- validation and checkpoints ----------------------------------------------------------
    def _validate(self) -> dict[str, float]:
        if self.val_cache is None:
            return {}
        val = self.data.val
        return validate(self.model, self.val_cache, val.column("pid").to_pylist(),
                        val.column("camera").to_pylist(), val.column("modality").to_pylist(),
                        feature=self.cfg.run.val_feature, device=self.device,
                        channels_last=self.channels_last, autocast=self.acc.autocast)

    def _state(self, epoch_done: int, metrics: dict[str, float]) -> dict[str, Any]:
        state = {
            **model_checkpoint_state(self.model),
            "method_state": self.objective.extra_state(),
            "optimizer": self.optimizer.state_dict(),
            "scheduler": self.scheduler.state_dict(),
            "sampler": self.sampler.state_dict(),
            "rng": rng_state(),
            "epoch": epoch_done,
            "train_config": config_dict(self.cfg),
            "fingerprints": dict(self.fingerprints),
            "metrics": dict(metrics),
            "best": dict(self.best),
            "history": [dict(r) for r in self.history],
            "config_history": [dict(c) for c in self.config_history],
        }
        if self.stage_outputs:
            state["stages"] = self.stage_outputs
            state["stage_fingerprints"] = self.stage_prints
        return state

    def _write_config(self) -> None:
        info = {"config": config_dict(self.cfg), "fingerprints": self.fingerprints,
                "seed": self.cfg.run.seed, "num_classes": self.data.num_classes,
                "train_images": self.data.train.num_rows, "val_images": self.data.val.num_rows,
                "missing_captions": self.data.missing_captions,
                "missing_caption_examples": self.data.missing_examples,
                "skipped_identities": self.sampler.skipped_labels,
                "batches_per_epoch": len(self.sampler), "processes": self.acc.num_processes,
                "mixed_precision": self.acc.mixed_precision, "device": str(self.device),
                "resumed_from": str(self.resume_path) if self.resume_path else None,
                "config_history": self.config_history,
                "provenance": provenance()}
        write_json(self.run_dir / "config.json", info)
        self.owner.record()

    # -- the loop ----------------------------------------------------------------------------
    def fit(self) -> TrainResult:
        """Train the remaining epochs; the run folder is released (and a run replaced by
        ``force`` deleted, or on failure restored) at the end."""
        try:
            if self.finished:
                result = self._finished_result()
            else:
                if self.is_main and self.resume_path is not None:
                    _say(f"resumed {self.resume_path} after epoch {self.start_epoch} of "
                         f"{self.cfg.optim.epochs}")
                elif self.is_main and self.owner.resume:
                    _say(f"no checkpoint to resume in {self.ckpt_dir}; starting a new run")
                result = self._fit()
        except BaseException:
            self.owner.abandon()
            raise
        self.owner.finish()
        return result

    def _finished_result(self) -> TrainResult:
        state = self._resume_state or {}
        best = self.ckpt_dir / "best.pt"
        history = list(state.get("history", []))
        metrics = dict(state.get("metrics") or (history[-1] if history else {}))
        run_dir = self.run_dir
        if self.resume_path.parent.name == "checkpoints" and self.resume_path.parent != self.ckpt_dir:
            run_dir = self.resume_path.parent.parent  # a checkpoint of another run folder
            best = run_dir / "checkpoints" / "best.pt"
        return TrainResult(run_dir, self.resume_path, best if best.is_file() else None, history,
                           {k: v for k, v in metrics.items() if isinstance(v, (int, float))},
                           is_main=self.is_main, already_trained=int(state.get("epoch", 0)))

    def _fit(self) -> TrainResult:
        cfg = self.cfg
        logger = None
        if self.is_main:
            self.run_dir.mkdir(parents=True, exist_ok=True)
            self._write_config()
            logger = RunLogger(self.run_dir / "logs", history=self.history,
                               tensorboard=cfg.run.tensorboard)
            for name, output in self.stage_outputs.items():
                if output.get("history"):
                    write_jsonl(self.run_dir / "logs" / f"stage_{name}.jsonl", output["history"])
            if self.data.missing_captions:
                tqdm.write(f"warning: {self.data.missing_captions} training images had no caption; "
                           f"using the template {cfg.data.template!r} for them")
        metrics: dict[str, float] = dict(self.history[-1]) if self.history else {}
        try:
            for epoch in range(self.start_epoch, cfg.optim.epochs):
                lrs = {}
                for group in self.optimizer.param_groups:
                    lrs.setdefault(f"lr/{group['name'].split('.')[0]}", group["lr"])
                stats = self._train_epoch(epoch)
                self._check_finite_weights(epoch + 1)
                self.scheduler.step()
                record: dict[str, Any] = {"epoch": epoch + 1, **stats, **lrs}
                last_epoch = epoch + 1 == cfg.optim.epochs
                every = cfg.run.validate_every
                if self.is_main and (last_epoch or (every and (epoch + 1) % every == 0)):
                    record.update(self._validate())
                self.history.append(record)
                metrics = record
                if self.is_main:
                    # The checkpoint first: the logs never list an epoch that no checkpoint holds.
                    self._save(epoch + 1, record)
                    logger.log_epoch(record)
                    self._print_epoch(record)
                self.acc.wait_for_everyone()
        except BaseException:
            if logger is not None:
                try:  # the error in flight is the one to report, not a failed plot after it
                    logger.close()
                except Exception:
                    pass
            raise
        if logger is not None:
            logger.close()
        last = self.ckpt_dir / "last.pt"
        best = self.ckpt_dir / "best.pt"
        return TrainResult(self.run_dir, last, best if best.is_file() else None, self.history,
                           {k: v for k, v in metrics.items() if isinstance(v, (int, float))},
                           is_main=self.is_main)

    def _save(self, epoch_done: int, record: dict[str, Any]) -> None:
        improved = BEST_METRIC in record and record[BEST_METRIC] > self.best.get("value", -1.0)
        if improved:
            self.best = {"metric": BEST_METRIC, "value": record[BEST_METRIC], "epoch": epoch_done}
        state = self._state(epoch_done, record)
        self._check_finite_weights(epoch_done, state["model"])
        save_checkpoint(self.ckpt_dir / "last.pt", state)
        self.last_good = epoch_done
        if improved:
            save_checkpoint(self.ckpt_dir / "best.pt", state)
        every = self.cfg.run.checkpoint_every
        if every and epoch_done % every == 0:
            save_checkpoint(self.ckpt_dir / f"epoch_{epoch_done}.pt", state)
        self.owner.record()

    def _check_finite_weights(self, epoch_done: int, weights: dict[str, torch.Tensor] | None = None) -> None:
        """Stop when the weights hold NaN/inf: such a checkpoint is never written nor called good
        (a finite loss can still leave non-finite weights after its step, e.g. a NaN learning rate)."""
        weights = self.model.state_dict() if weights is None else weights
        bad = [k for k, v in weights.items() if v.is_floating_point() and not bool(torch.isfinite(v).all())]
        if bad:
            raise NonFiniteLossError(
                f"weights are not finite after epoch {epoch_done} ({len(bad)} tensors, e.g. {bad[0]}); "
                f"training stopped and {self._kept()}. Lower the learning rates (optim.lr_*), "
                f"enable optim.grad_clip, or check the inputs")

    def _print_epoch(self, record: dict[str, Any]) -> None:
        if not self.cfg.run.progress:
            return
        losses = " ".join(f"{k.removeprefix('loss/')}={v:.4f}" for k, v in record.items()
                          if k.startswith("loss/"))
        val = " ".join(f"{k}={v:.3f}" for k, v in record.items() if k in ("val/mAP", "val/R1"))
        tqdm.write(f"epoch {record['epoch']}: {losses} | {record['images_per_s']:.0f} img/s, "
                   f"data {100 * record['data_share']:.0f}% {val}".rstrip())


# How data is read and shown, not what is trained: not a change of the run's settings.
RUNTIME_KEYS = {"data.workers", "data.cache_dir", "run.progress", "run.device", "run.tensorboard"}


def _flat(section: Any, prefix: str = "") -> dict[str, Any]:
    if not isinstance(section, dict):
        return {prefix.rstrip("."): section}
    out: dict[str, Any] = {}
    for key, value in section.items():
        out.update(_flat(value, f"{prefix}{key}."))
    return out


def config_changes(saved: dict[str, Any], now: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """``{"optim.lr_visual": {"was": 1e-4, "now": 0.1}, ...}``: the settings that differ."""
    old, new = _flat(saved), _flat(now)
    return {k: {"was": old.get(k), "now": new.get(k)} for k in sorted(set(old) | set(new))
            if k not in RUNTIME_KEYS and old.get(k) != new.get(k)}


def train(cfg: TrainConfig, run_dir: str | Path, *, resume: str | None = None,
          force: bool = False) -> TrainResult:
    """Train ``cfg`` into ``run_dir``; ``resume`` is a checkpoint path or ``"auto"``; ``force``
    replaces a run already in ``run_dir`` (deleted once the new one finished)."""
    return Trainer(cfg, run_dir, resume=resume, force=force).fit()
