"""A method is one module: a toy method defined in this file (its own config, head and loss,
no captions) trains through the Trainer and evaluates, with no edit to any package file."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from vireid.evaluation.checkpoint import evaluate_checkpoint
from vireid.methods import LossResult, Method, Objective, TrainBatch, Variant, register_method, unregister_method
from vireid.models.store import load_checkpoint
from vireid.training.config import resolve_config
from vireid.training.engine import train


@dataclass
class ToyConfig:
    weight: float = 1.0


class ToyObjective(Objective):
    """Cross-entropy of a private linear head on the projected feature (nothing else)."""

    def __init__(self, cfg: ToyConfig, model: nn.Module):
        super().__init__()
        self.cfg, self.model = cfg, model
        model.text.requires_grad_(False)
        self.head = nn.Linear(model.proj_dim, model.num_classes)

    def forward(self, batch: TrainBatch) -> LossResult:
        out = self.model(visible=batch.visible, infrared=batch.infrared)
        toy = F.cross_entropy(self.head(out["proj"]), batch.labels)
        weighted = {"toy": self.cfg.weight * toy}
        return LossResult(total=weighted["toy"], terms={"toy": toy.detach(), "total": weighted["toy"].detach()},
                          weighted=weighted, probe=out["proj"])

    def param_groups(self):
        groups = self.model.param_groups()
        return {**groups, "heads": groups["heads"] + list(self.head.parameters())}


@pytest.fixture
def toy_method():
    @register_method
    class Toy(Method):
        name = "toy-test"
        paper = "this test file"
        summary = "a linear head and cross-entropy"
        config_cls = ToyConfig
        variants = (Variant("toy-test", "the toy"), Variant("toy-test-heavy", "weight 2", {"weight": 2.0}))

        def objective(self, cfg, model, stage_outputs):
            return ToyObjective(cfg, model)

    yield Toy
    unregister_method("toy-test")


def test_a_method_registered_in_a_test_file_trains_and_evaluates(toy_method, synth_sysu_root, tmp_path):
    cfg = resolve_config("tiny-toy-test-heavy", overrides=[
        f"data.root={str(synth_sysu_root)!r}", f"data.cache_dir={str(tmp_path / 'cache')!r}",
        "optim.epochs=1", "sampler.max_batches=2", "run.progress=false", "data.workers=1",
        "run.tensorboard=false", "model.pretrained=none"])
    assert cfg.family == "toy-test" and cfg.method_config.weight == 2.0 and not cfg.needs.captions
    result = train(cfg, tmp_path / "run")
    state = load_checkpoint(result.last)
    assert set(state["method_state"]) == {"head.weight", "head.bias"}
    assert state["train_config"]["toy-test"] == {"weight": 2.0}
    assert {"loss/toy", "loss/total", "grad/toy"} <= set(result.history[0])  # its diagnostics are logged
    results, _ = evaluate_checkpoint(result.last, "sysu", synth_sysu_root, trials=1)
    assert 0.0 <= results["settings"]["all_single"]["mean"]["mAP"] <= 1.0


def test_unknown_and_duplicate_names_are_refused(toy_method):
    from vireid.errors import ConfigError
    from vireid.methods import resolve

    assert resolve("toy-test-heavy").method.name == "toy-test"
    with pytest.raises(ConfigError, match="unknown 'toy-nope'"):
        resolve("toy-nope")
    with pytest.raises(ValueError, match="already taken"):
        @register_method
        class Clash(Method):
            name = "clash"
            variants = (Variant("eees", "steals a name"),)
