"""CSDN: each loss and the SII fusion against loop implementations of their definitions,
the HSE total as the weighted sum of its terms, numerics under extreme features, and tiny
end-to-end runs (three stages, stage caching, refusal of foreign stage outputs)."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from vireid.errors import ConfigError, VireidError
from vireid.losses import id_loss, wrt_loss
from vireid.methods import method_config
from vireid.methods.csdn import (
    CSDNConfig, CSDNObjective, PromptConfig, SemanticFusion, csdn_loss, msel_loss, stage_lr, stage_pair_loss,
)


def _g(seed=0):
    return torch.Generator().manual_seed(seed)


# -- msel_loss -------------------------------------------------------------------------------

def _msel_loop(v, r, labels):
    def dist(x, y):
        return math.sqrt(sum((float(p) - float(q)) ** 2 for p, q in zip(x, y)))

    sides = []
    for anchor, other in ((v, r), (r, v)):
        terms = []
        for i in range(len(labels)):
            intra = [dist(anchor[i], anchor[j]) for j in range(len(labels)) if j != i and labels[j] == labels[i]]
            cross = [dist(anchor[i], other[j]) for j in range(len(labels)) if labels[j] == labels[i]]
            if intra:
                terms.append((sum(cross) / len(cross) - sum(intra) / len(intra)) ** 2)
        sides.append(sum(terms) / len(terms))
    return sum(sides) / 2


def test_msel_loss_matches_its_definition():
    labels = torch.tensor([0, 0, 0, 1, 1, 1, 2, 2, 2])
    v = torch.randn(9, 6, generator=_g(2), dtype=torch.float64)
    r = torch.randn(9, 6, generator=_g(3), dtype=torch.float64) + 0.5
    assert msel_loss(v, r, labels).item() == pytest.approx(_msel_loop(v, r, labels.tolist()), rel=1e-9)


def test_msel_loss_is_finite_for_identical_features_and_single_images():
    v = torch.ones(4, 3, requires_grad=True)
    r = torch.ones(4, 3, requires_grad=True)
    loss = msel_loss(v, r, torch.tensor([0, 0, 1, 1]))
    loss.backward()
    assert loss.item() == pytest.approx(0.0, abs=1e-10) and torch.isfinite(v.grad).all() and torch.isfinite(r.grad).all()
    one_each = msel_loss(v, r, torch.tensor([0, 1, 2, 3]))  # no same-modality positive anywhere
    assert one_each.item() == 0.0 and one_each.requires_grad


# -- SII fusion ------------------------------------------------------------------------------

def _fusion_loop(fusion, vis, ir):
    q, k, val = fusion.query(vis), fusion.key(ir), fusion.value(ir)
    n, d = q.shape
    mixed = torch.zeros(n, d, dtype=vis.dtype)
    if fusion.attention == "channels":
        for a in range(n):
            for i in range(d):
                w = [math.exp(float(q[a, i] * k[a, j])) for j in range(d)]
                mixed[a, i] = sum(w[j] * float(val[a, j]) for j in range(d)) / sum(w)
    else:
        for a in range(n):
            w = [math.exp(float(q[a] @ k[b]) / math.sqrt(d)) for b in range(n)]
            mixed[a] = sum(w[b] * val[b] for b in range(n)) / sum(w)
    return vis + fusion.out(mixed)


@pytest.mark.parametrize("attention", ["channels", "identities"])
def test_sii_fusion_matches_its_definition(attention):
    torch.manual_seed(0)
    fusion = SemanticFusion(5, dropout=0.1, attention=attention).double().eval()
    vis = torch.randn(4, 5, generator=_g(4), dtype=torch.float64)
    ir = torch.randn(4, 5, generator=_g(5), dtype=torch.float64)
    with torch.no_grad():
        torch.testing.assert_close(fusion(vis, ir), _fusion_loop(fusion, vis, ir))
    # the residual: with the output layer at zero the fused feature is the visible text
    with torch.no_grad():
        fusion.out.weight.zero_()
        fusion.out.bias.zero_()
        torch.testing.assert_close(fusion(vis, ir), vis)


def test_channel_fusion_of_an_identity_does_not_depend_on_the_others():
    fusion = SemanticFusion(6, attention="channels").eval()
    vis, ir = torch.randn(5, 6), torch.randn(5, 6)
    with torch.no_grad():
        torch.testing.assert_close(fusion(vis, ir)[2:3], fusion(vis[2:3], ir[2:3]))


# -- the HSE objective -----------------------------------------------------------------------

def _outputs(n=4, views=2, classes=5, dim=6, seed=0, scale=1.0):
    g = _g(seed)
    rows = n * (views + 1)
    return {
        "logits": (torch.randn(rows, classes, generator=g) * scale).requires_grad_(),
        "proj_logits": (torch.randn(rows, classes, generator=g) * scale).requires_grad_(),
        "pooled": (torch.randn(rows, dim + 2, generator=g) * scale).requires_grad_(),
        "proj": (torch.randn(rows, dim, generator=g) * scale).requires_grad_(),
        "modality": torch.cat([torch.zeros(n * views), torch.ones(n)]).long(),
    }


def test_hse_total_is_the_weighted_sum_of_reference_terms():
    cfg = CSDNConfig()
    labels = torch.tensor([0, 0, 3, 3])
    out = _outputs()
    text = torch.randn(5, 6, generator=_g(9))
    res = csdn_loss(cfg, out, labels, 2, text)
    all_labels = labels.repeat(3)
    v1, v2, ir = slice(0, 4), slice(4, 8), slice(8, 12)
    id_ = id_loss(out["logits"], all_labels) + id_loss(out["proj_logits"], all_labels)
    wrt = wrt_loss(out["pooled"], all_labels) + wrt_loss(out["proj"], all_labels)
    msel = sum((msel_loss(out[k][v1], out[k][ir], labels) + msel_loss(out[k][v2], out[k][ir], labels)) / 2
               for k in ("pooled", "proj"))
    logits = out["proj"] @ text.t()  # raw dot products, temperature 1
    ce_v = F.cross_entropy(logits[:8], all_labels[:8])
    ce_r = F.cross_entropy(logits[8:], all_labels[8:])
    expected = id_ + msel + 0.15 * wrt + 0.05 * ce_v + 0.1 * ce_r
    torch.testing.assert_close(res.total, expected)
    for key, ref in {"id": id_, "wrt": wrt, "msel": msel, "text_v": ce_v, "text_r": ce_r}.items():
        torch.testing.assert_close(res.terms[key], ref.detach())
    res.total.backward()
    assert out["proj"].grad is not None


def test_hse_with_one_visible_view_and_msel_views_first():
    labels = torch.tensor([1, 1, 2, 2])
    out = _outputs(views=1)
    res = csdn_loss(CSDNConfig(), out, labels, 1, torch.randn(5, 6))
    msel = msel_loss(out["pooled"][:4], out["pooled"][4:], labels) + msel_loss(out["proj"][:4], out["proj"][4:], labels)
    torch.testing.assert_close(res.terms["msel"], msel.detach())
    out2 = _outputs(views=2)
    first = csdn_loss(method_config("csdn", {"msel_views": "first"}), out2, labels, 2, torch.randn(5, 6))
    ref = sum(msel_loss(out2[k][:4], out2[k][8:], labels) for k in ("pooled", "proj"))
    torch.testing.assert_close(first.terms["msel"], ref.detach())


def test_many_steps_with_extreme_features_stay_finite_under_bf16_autocast():
    """The reference code reports NaN losses around epoch 60-70: sqrt at 0 and half-precision
    logits. Here: huge, tiny and identical features, bf16 autocast, 120 optimiser steps."""
    torch.manual_seed(0)
    labels = torch.tensor([0, 0, 0, 0, 1, 1, 1, 1])
    base = {k: v.detach().clone() for k, v in _outputs(n=8, views=2, classes=3, dim=16, scale=1.0).items()}
    params = {k: torch.nn.Parameter(v) for k, v in base.items() if k != "modality"}
    with torch.no_grad():
        params["pooled"][:4] *= 1e4          # huge
        params["pooled"][4:8] = 0.0          # exactly identical rows
        params["proj"][8:16] *= 1e-6         # tiny
        params["proj"][16:] = params["proj"][16].clone()  # identical infrared rows
    text = torch.randn(3, 16) * 1e3          # raw logits far beyond bf16's exact range
    opt = torch.optim.SGD(params.values(), lr=1e-2)
    cfg = CSDNConfig()
    for _ in range(120):
        with torch.autocast("cpu", dtype=torch.bfloat16):
            res = csdn_loss(cfg, {**{k: v.bfloat16() for k, v in params.items()}, "modality": base["modality"]},
                            labels, 2, text)
        assert torch.isfinite(res.total), res.terms
        opt.zero_grad()
        res.total.backward()
        assert all(torch.isfinite(p.grad).all() for p in params.values())
        opt.step()
    # the losses themselves compute in float32 even when handed bf16 features
    with torch.autocast("cpu", dtype=torch.bfloat16):
        assert stage_pair_loss(torch.randn(4, 8).bfloat16(), torch.randn(4, 8).bfloat16(),
                               labels[:4], 1.0).dtype == torch.float32
        assert msel_loss(torch.randn(4, 8).bfloat16(), torch.randn(4, 8).bfloat16(), labels[:4]).dtype == torch.float32


# -- config, schedule, objective guards ------------------------------------------------------

def test_stage_schedule_is_warmup_then_cosine_to_the_floor():
    cfg = PromptConfig()  # 60 epochs, 5 warm-up from 1e-5, 3e-4, floor 1e-6
    assert stage_lr(0, cfg) == pytest.approx(1e-5)
    assert stage_lr(5, cfg) == pytest.approx(3e-4)
    assert stage_lr(4, cfg) < stage_lr(5, cfg)
    assert all(stage_lr(e, cfg) >= stage_lr(e + 1, cfg) for e in range(5, 59))
    assert stage_lr(59, cfg) == pytest.approx(1e-6, abs=3e-7)


def test_config_defaults_are_the_csdn_facts_and_validation_rejects_nonsense():
    cfg = method_config("csdn")
    assert (cfg.prompt.epochs, cfg.prompt.n_ctx, cfg.prompt.lr, cfg.prompt.weight_decay, cfg.prompt.batch_size,
            cfg.prompt.warmup_epochs, cfg.prompt.temperature) == (60, 4, 3e-4, 1e-4, 32, 5, 1.0)
    assert (cfg.fusion.batch_size, cfg.fusion.dropout) == (64, 0.1)
    w = cfg.weights
    assert (w.id, w.msel, w.wrt, w.text_visible, w.text_infrared) == (1.0, 1.0, 0.15, 0.05, 0.1)
    assert method_config("csdn-no-sii").use_sii is False
    with pytest.raises(ConfigError, match="csdn.fusion.attention"):
        method_config("csdn", {"fusion": {"attention": "rows"}})
    with pytest.raises(ConfigError, match="csdn.prompt"):
        method_config("csdn", {"prompt": {"temperature": 0}})


def test_presets_carry_the_authors_recipe():
    from vireid.training.config import resolve_config

    cfg = resolve_config("csdn")
    assert cfg.optim.lr_heads == 2 * cfg.optim.lr_visual and cfg.optim.milestones == (40, 70)
    assert cfg.optim.epochs == 120 and cfg.optim.warmup_epochs == 10 and cfg.optim.warmup_factor == 0.01
    assert cfg.augment.second_visible_view and cfg.augment.erasing == 0.5 and cfg.augment.ir_adaptive_grey == "caj"
    assert cfg.model.pixel_stats == "imagenet" and cfg.augment.pad == 10
    assert resolve_config("csdn-regdb", overrides=["data.trial=3"]).data.dataset == "regdb"
    assert resolve_config("csdn-llcm").data.dataset == "llcm"
    tiny = resolve_config("tiny-csdn")
    assert tiny.augment.pad == 4 and tiny.optim.lr_heads == 2 * tiny.optim.lr_visual
    with pytest.raises(ConfigError, match="per_modality"):
        resolve_config("tiny-csdn", overrides=["sampler.per_modality=1"]).validate()


def test_objective_refuses_text_targets_of_another_identity_count():
    from vireid.models import TINY_MODEL_NAME, ModelConfig, build_model

    model = build_model(ModelConfig(name=TINY_MODEL_NAME, pretrained="none", gem_learnable=True, neck_bias=True), 4)
    assert isinstance(model.gem_p, torch.nn.Parameter) and model.neck.bn.bias.requires_grad
    assert any(p is model.gem_p for p in model.param_groups()["visual"])
    dim = model.proj_dim
    with pytest.raises(VireidError, match=r"must be \[4, D\].*do not belong to this data"):
        CSDNObjective(CSDNConfig(), model, torch.randn(7, dim))
    objective = CSDNObjective(CSDNConfig(), model, torch.randn(4, dim))
    assert not any(p.requires_grad for p in model.text.parameters())
    assert "class_text" not in objective.extra_state()  # derived from the stage outputs, not saved twice
