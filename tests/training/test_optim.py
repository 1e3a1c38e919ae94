"""Specification of the per-part optimiser and the warm-up + multi-step schedule."""

import pytest
import torch

from vireid.config import from_dict
from vireid.errors import ConfigError
from vireid.training.optim import OptimConfig, build_optimizer, build_scheduler, lr_factor


def test_paper_schedule_warms_up_then_decays_at_40_and_70():
    cfg = OptimConfig()
    assert lr_factor(0, cfg) == pytest.approx(0.1)
    assert lr_factor(5, cfg) == pytest.approx(0.55)
    assert lr_factor(10, cfg) == 1.0
    assert lr_factor(39, cfg) == 1.0
    assert lr_factor(40, cfg) == pytest.approx(0.1)
    assert lr_factor(69, cfg) == pytest.approx(0.1)
    assert lr_factor(70, cfg) == pytest.approx(0.01)
    assert lr_factor(119, cfg) == pytest.approx(0.01)


def test_parts_get_their_learning_rates_and_biases_no_weight_decay():
    visual, text = torch.nn.Linear(4, 4), torch.nn.Linear(4, 4)
    opt = build_optimizer({"visual": visual.parameters(), "text": text.parameters()}, OptimConfig())
    groups = {g["name"]: g for g in opt.param_groups}
    assert groups["visual"]["lr"] == 3e-4 and groups["text"]["lr"] == 1e-6
    assert groups["visual"]["weight_decay"] == 5e-4
    assert groups["visual.no_decay"]["weight_decay"] == 0.0
    assert groups["visual.no_decay"]["params"][0] is visual.bias


def test_scheduler_scales_every_group():
    cfg = OptimConfig(epochs=6, warmup_epochs=2, milestones=(3, 5))
    visual, text = torch.nn.Linear(2, 2), torch.nn.Linear(2, 2)
    opt = build_optimizer({"visual": visual.parameters(), "text": text.parameters()}, cfg)
    sched = build_scheduler(opt, cfg)
    seen = []
    for _ in range(6):
        seen.append([g["lr"] for g in opt.param_groups if g["name"] == "text"][0])
        opt.step()
        sched.step()
    expected = [1e-6 * lr_factor(e, cfg) for e in range(6)]
    assert seen == pytest.approx(expected)


def test_bad_values_name_the_key():
    with pytest.raises(ConfigError, match="optim.warmup_factor"):
        from_dict(OptimConfig, {"warmup_factor": 0}, prefix="optim.")
    with pytest.raises(ConfigError, match="milestones"):
        from_dict(OptimConfig, {"milestones": [70, 40]}, prefix="optim.")
