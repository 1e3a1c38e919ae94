"""The method contract, checked for every registered method and every variant (the registry
drives the parameters: a method added tomorrow is tested here with no edit to this file).

Each variant runs at its tiny preset, from the small synthetic-web prior, on a tiny in-memory training set (3 identities x 2
modalities x 2 images of 32x16 pixels): its preparatory stages through the trainer's stage
runner, then training steps the way the trainer takes them (objective -> backward -> Adam of
``training.optim``). Per variant:
- one step trains: every term finite, ``total`` among them, ``total`` = the sum of the
  declared weighted terms, a gradient norm per weighted term (the diagnostics contract), and
  the network's weights move;
- ``method_state`` round-trips through a checkpoint into a fresh objective;
- kill-and-resume is exact: a fresh process state loaded from the step-1 checkpoint takes
  step 2 with the same loss terms and the same resulting weights as the uninterrupted run;
- the evaluation network loads from the checkpoint with ``vireid.methods`` unimportable and
  encodes images exactly as the trained network does;
- its presets resolve for every dataset the method claims, and the package follows the layout.
"""

from __future__ import annotations

import copy
import importlib.abc
import math
import sys
from contextlib import contextmanager, nullcontext
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch

from vireid.methods import StageContext, TrainBatch, list_methods, resolve
from vireid.methods.method import PRESET_SCALES
from vireid.models.store import load_checkpoint, load_model, model_checkpoint_state, save_checkpoint
from vireid.pretraining.cache import resolve_pretrained
from vireid.tokenizer import tokenize
from vireid.training.config import preset_names, resolve_config
from vireid.training.optim import build_optimizer
from vireid.training.stages import run_stages

from tests.conftest import SMALL_PRIOR

VARIANTS = [v for m in list_methods() for v in ([x.name for x in m.variants] or [m.name])]
METHODS = [m.name for m in list_methods()]
REPO = Path(__file__).resolve().parents[2]
IDS, PER = 3, 2  # training identities; images per identity and modality (also K of a batch)
STAGE_EPOCHS = ("eees.prompt.epochs=1", "csdn.prompt.epochs=1", "csdn.fusion.epochs=1",
                "clip4vi-reid.stage.epochs=1")


def _contract_config(variant: str):
    """The tiny preset, shrunk: 32x16 images, 2 ids x 2+2 images per batch, 1-epoch stages; the
    network starts from the small synthetic-web prior (OpenAI format) as the trainer loads it."""
    family = resolve(variant).method.name
    stage_keys = [o for o in STAGE_EPOCHS if o.startswith(f"{family}.")]
    cfg = resolve_config(f"tiny-{variant}", overrides=[
        "model.image_size=[32, 16]", "sampler.batch_ids=2", f"sampler.per_modality={PER}", *stage_keys,
        *SMALL_PRIOR])
    return replace(cfg, model=resolve_pretrained(cfg.model, cfg.pretrain))


@contextmanager
def _one_thread():
    # Two contended cores: one intra-op thread is several times faster than two here.
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


class Harness:
    """One variant's network, stage outputs and deterministic training steps."""

    def __init__(self, variant: str, work: Path):
        self.variant, self.work = variant, work
        self.cfg = _contract_config(variant)
        self.method = resolve(variant).method
        self.needs = self.method.needs(self.cfg.method_config)
        h, w = self.cfg.model.image_size
        g = torch.Generator().manual_seed(0)
        # Training set: rows [visible of ids 0..2; infrared of ids 0..2], PER images each.
        self.labels = np.tile(np.repeat(np.arange(IDS), PER), 2)
        self.modalities = np.array(["visible"] * (IDS * PER) + ["infrared"] * (IDS * PER))
        self.images = torch.randn(len(self.labels), 3, h, w, generator=g)
        self.captions = [f"a person in a {c} shirt seen by the {m} camera"
                         for c, m in zip(np.array(["red", "blue", "green"])[self.labels], self.modalities)]
        self.tokens = tokenize(self.captions)
        torch.manual_seed(0)
        self.initial = self.method.build_model(self.cfg.model, IDS, self.cfg.method_config)
        self.stage_outputs = self._run_stages()

    def _run_stages(self) -> dict:
        stages = self.method.stages(self.cfg.method_config)
        model = self.initial

        @torch.no_grad()
        def image_features(key: str = "proj") -> torch.Tensor:
            was = model.training
            model.eval()
            feats = torch.zeros(len(self.labels), model.encode_image(self.images[:1], "visible")[key].shape[1])
            for modality in ("visible", "infrared"):
                rows = torch.from_numpy(np.flatnonzero(self.modalities == modality))
                feats[rows] = model.encode_image(self.images[rows], modality)[key].float()
            model.train(was)
            return feats

        def make_context(save_progress, load_progress) -> StageContext:
            return StageContext(model=model, num_classes=IDS, labels=self.labels, modalities=self.modalities,
                                captions=self.captions if self.needs.captions else None,
                                device=torch.device("cpu"), seed=0, autocast=nullcontext,
                                image_features=image_features, log=lambda line: None, progress=False,
                                save_progress=save_progress, load_progress=load_progress, run_dir=self.work)

        outputs, _ = run_stages(stages, make_context, self.work / "stages", base_fingerprint={"seed": 0},
                                saved=None, write=True, log=lambda line: None)
        return outputs

    def fresh(self):
        """A new objective on a copy of the initial network, and its optimiser (a restarted process)."""
        objective = self.method.objective(self.cfg.method_config, copy.deepcopy(self.initial), self.stage_outputs)
        groups = {k: v for k, v in objective.param_groups().items() if v}
        return objective, build_optimizer(groups, self.cfg.optim)

    def batch(self, step: int) -> TrainBatch:
        """Step ``step``'s batch: ids (step, step+1) mod 3, visible rows then the same-order infrared rows."""
        ids = [step % IDS, (step + 1) % IDS]
        vis = np.concatenate([np.flatnonzero((self.labels == i) & (self.modalities == "visible")) for i in ids])
        ir = np.concatenate([np.flatnonzero((self.labels == i) & (self.modalities == "infrared")) for i in ids])
        rows = torch.from_numpy(np.concatenate([vis, ir]))
        g = torch.Generator().manual_seed(100 + step)
        extra = ()
        if self.cfg.augment.second_visible_view:
            extra = (self.images[torch.from_numpy(vis)].flip(-1),)
        return TrainBatch(visible=self.images[torch.from_numpy(vis)], infrared=self.images[torch.from_numpy(ir)],
                          labels=torch.from_numpy(self.labels[rows.numpy()]),
                          tokens=self.tokens[rows] if self.needs.captions else None,
                          generator=g, epoch=0, step=step, extra_visible=extra)

    def step(self, objective, optimizer, step: int):
        torch.manual_seed(1000 + step)  # the trainer restores the global RNG on resume likewise
        objective.train()
        result = objective(self.batch(step))
        norms = result.grad_norms()
        optimizer.zero_grad(set_to_none=True)
        result.total.backward()
        optimizer.step()
        return result, norms

    def checkpoint(self, objective, optimizer, path: Path) -> Path:
        return save_checkpoint(path, {**model_checkpoint_state(objective.model),
                                      "method_state": objective.extra_state(),
                                      "optimizer": optimizer.state_dict(), "stages": self.stage_outputs})


@pytest.fixture(scope="module")
def runs(tmp_path_factory, small_prior):
    """Per variant (built on first use): the uninterrupted two steps and a resumed second step."""
    done: dict[str, dict] = {}

    def get(variant: str) -> dict:
        if variant in done:
            return done[variant]
        with _one_thread():
            work = tmp_path_factory.mktemp(variant)
            harness = Harness(variant, work)
            objective, optimizer = harness.fresh()
            before = {k: v.clone() for k, v in objective.model.state_dict().items()}
            first, norms = harness.step(objective, optimizer, 0)
            path = harness.checkpoint(objective, optimizer, work / "step1.pt")
            with torch.no_grad():
                objective.model.eval()
                probe = harness.images[:2]
                encoded = {k: v.clone() for k, v in objective.model.encode_image(probe, "infrared").items()}
            second, _ = harness.step(objective, optimizer, 1)
            straight = {k: v.clone() for k, v in objective.model.state_dict().items()}

            resumed, resumed_opt = harness.fresh()  # the killed run's process is gone: all new objects
            state = load_checkpoint(path)
            resumed.model.load_state_dict(state["model"])
            resumed.load_extra_state(state["method_state"])
            resumed_opt.load_state_dict(state["optimizer"])
            again, _ = harness.step(resumed, resumed_opt, 1)
            done[variant] = dict(harness=harness, first=first, norms=norms, before=before, after=straight,
                                 checkpoint=path, probe=probe, encoded=encoded, second=second, again=again,
                                 resumed_weights=resumed.model.state_dict(), objective=objective, resumed=resumed)
        return done[variant]

    return get


@pytest.mark.parametrize("variant", VARIANTS)
def test_one_step_trains_with_finite_terms_a_total_and_gradient_norms_per_term(variant, runs):
    run = runs(variant)
    result = run["first"]
    terms = {k: float(v) for k, v in result.terms.items()}
    assert "total" in terms and all(math.isfinite(v) for v in terms.values()), terms
    assert set(result.weighted) <= set(terms) - {"total"} and result.weighted
    assert math.isclose(sum(float(v.detach()) for v in result.weighted.values()), terms["total"], rel_tol=1e-5, abs_tol=1e-6)
    assert set(run["norms"]) == set(result.weighted)
    assert all(math.isfinite(v) and v >= 0 for v in run["norms"].values())
    assert any(v > 0 for v in run["norms"].values())  # some term reaches the projected feature
    moved = [k for k, v in run["before"].items() if v.is_floating_point() and not torch.equal(v, run["after"][k])]
    assert moved, "no network weight changed after two steps"


@pytest.mark.parametrize("variant", VARIANTS)
def test_method_state_round_trips_through_the_checkpoint(variant, runs):
    run = runs(variant)
    saved = load_checkpoint(run["checkpoint"])["method_state"]
    fresh, _ = run["harness"].fresh()
    fresh.load_extra_state(saved)
    restored = fresh.extra_state()
    assert set(restored) == set(saved)
    assert all(torch.equal(restored[k], saved[k]) for k in saved)


@pytest.mark.parametrize("variant", VARIANTS)
def test_kill_and_resume_is_exact(variant, runs):
    run = runs(variant)
    straight = {k: float(v) for k, v in run["second"].terms.items()}
    resumed = {k: float(v) for k, v in run["again"].terms.items()}
    assert resumed == straight
    assert all(torch.equal(run["resumed_weights"][k], v) for k, v in run["after"].items())
    theirs, mine = run["resumed"].extra_state(), run["objective"].extra_state()
    assert set(theirs) == set(mine) and all(torch.equal(theirs[k], mine[k]) for k in mine)


class _Refuse(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name == "vireid.methods" or name.startswith("vireid.methods."):
            raise ImportError(f"the evaluation side imported {name}")
        return None


@contextmanager
def _methods_unimportable():
    """``vireid.methods`` hidden from ``sys.modules`` and refused on import, then restored."""
    hidden = {k: sys.modules.pop(k) for k in list(sys.modules) if k == "vireid.methods" or k.startswith("vireid.methods.")}
    finder = _Refuse()
    sys.meta_path.insert(0, finder)
    try:
        yield
    finally:
        sys.meta_path.remove(finder)
        sys.modules.update(hidden)


@pytest.mark.parametrize("variant", VARIANTS)
def test_the_evaluation_network_loads_from_the_checkpoint_without_the_method(variant, runs):
    run = runs(variant)
    with _methods_unimportable(), _one_thread():
        model = load_model(run["checkpoint"])
        with torch.no_grad():
            encoded = model.encode_image(run["probe"], "infrared")
    assert set(encoded) == set(run["encoded"])
    for key, value in run["encoded"].items():
        torch.testing.assert_close(encoded[key], value, rtol=0, atol=0)


@pytest.mark.parametrize("variant", VARIANTS)
def test_every_preset_of_the_variant_resolves_for_each_dataset_the_method_claims(variant):
    method = resolve(variant).method
    names = set(preset_names())
    for name in (variant, f"tiny-{variant}"):
        assert name in names and resolve_config(name).method == variant
    for dataset in method.datasets:
        name = f"{variant}-{dataset}"
        assert name in names
        cfg = resolve_config(name, overrides=["data.trial=1"] if dataset == "regdb" else [])
        assert (cfg.method, cfg.data.dataset) == (variant, dataset)


@pytest.mark.parametrize("name", METHODS)
def test_the_method_package_follows_the_layout(name):
    method = resolve(name).method
    package = method.preset_dir().parent
    assert package.name == name.replace("-", "_"), "package = the method name, '-' -> '_'"
    assert method.config_cls.__name__.lower() == f"{package.name.replace('_', '')}config"
    assert method.paper and method.summary and (REPO / method.docs).is_file()
    files = sorted(p.stem for p in method.preset_dir().glob("*")) if method.preset_dir().is_dir() else []
    assert set(files) <= set(PRESET_SCALES), f"presets/ holds only {PRESET_SCALES} files, got {files}"
    for variant in method.variants:
        assert resolve(variant.name).method is method
    assert set(method.renamed_presets.values()) <= set(preset_names())  # old names lead somewhere
