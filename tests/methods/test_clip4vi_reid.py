"""CLIP4VI-ReID (a reading of the abstract): each loss against a loop over its definition,
the objective as the weighted sum of those terms, variants, and the TSG stage's visible-only rule."""

from __future__ import annotations

import copy
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from vireid.config import from_dict
from vireid.errors import ConfigError, VireidError
from vireid.losses import id_loss, wrt_loss
from vireid.methods import method_config, resolve
from vireid.methods.clip4vi_reid import (
    CLIP4VIReIDConfig,
    CLIP4VIReIDObjective,
    TSGStage,
    clip4vi_reid_loss,
    hsa_text_loss,
    identity_prototypes,
    text_bridge_loss,
)

from tests.methods.fakes import network_outputs


def _cos(a, b):
    return float((a @ b) / (a.norm() * b.norm()))


# -- loop references ---------------------------------------------------------------------------
def _ref_text_bridge(image, class_text, labels, t):
    total = 0.0
    for i in range(len(image)):
        scores = [_cos(image[i], class_text[c]) / t for c in range(len(class_text))]
        m = max(scores)
        log_z = m + math.log(sum(math.exp(s - m) for s in scores))
        total += log_z - scores[int(labels[i])]
    return total / len(image)


def _ref_hsa(image, modality, labels, text, text_ids, t, balance):
    ids = [int(x) for x in text_ids]
    fit = 0.0
    for m in (0, 1):
        rows = [i for i in range(len(image)) if int(modality[i]) == m]
        if not rows:
            continue
        part = 0.0
        for i in rows:
            scores = [_cos(image[i], text[k]) / t for k in range(len(ids))]
            log_z = math.log(sum(math.exp(s) for s in scores))
            part += log_z - scores[ids.index(int(labels[i]))]
        fit += part / len(rows)
    gaps = []
    for k, c in enumerate(ids):
        v = [_cos(image[i], text[k]) for i in range(len(image)) if int(labels[i]) == c and int(modality[i]) == 0]
        r = [_cos(image[i], text[k]) for i in range(len(image)) if int(labels[i]) == c and int(modality[i]) == 1]
        if v and r:
            gaps.append((sum(v) / len(v) - sum(r) / len(r)) ** 2)
    return fit + (balance * sum(gaps) / len(gaps) if gaps else 0.0)


def _ref_prototypes(features, labels, num_classes, use):
    out = []
    for c in range(num_classes):
        rows = [i for i in range(len(labels)) if int(labels[i]) == c and bool(use[i])]
        if not rows:
            rows = [i for i in range(len(labels)) if int(labels[i]) == c]
        mean = sum(features[i] / features[i].norm() for i in rows) / len(rows)
        out.append(mean / mean.norm())
    return torch.stack(out)


def _grad_check(fn, *tensors):
    """Analytic gradient of fn (autograd) vs central differences, float64."""
    assert torch.autograd.gradcheck(fn, tensors, eps=1e-6, atol=1e-5)


# -- losses vs loops ---------------------------------------------------------------------------
def test_text_bridge_loss_matches_the_loop_definition_values_and_gradients(f64):
    g = torch.Generator().manual_seed(0)
    image = torch.randn(7, 5, generator=g, requires_grad=True)
    class_text = torch.randn(4, 5, generator=g, requires_grad=True)
    labels = torch.tensor([0, 1, 2, 3, 0, 1, 3])
    value = text_bridge_loss(image, class_text, labels, 0.1)
    assert value.dtype == torch.float64
    assert float(value) == pytest.approx(_ref_text_bridge(image.detach(), class_text.detach(), labels, 0.1), rel=1e-10)
    _grad_check(lambda a, b: text_bridge_loss(a, b, labels, 0.1), image, class_text)
    with pytest.raises(ValueError, match="text_bridge_loss"):
        text_bridge_loss(image, class_text[:, :3], labels, 0.1)


@pytest.mark.parametrize("balance", [0.0, 1.0, 2.5])
def test_hsa_text_loss_matches_the_loop_definition_values_and_gradients(f64, balance):
    g = torch.Generator().manual_seed(1)
    labels = torch.tensor([2, 2, 5, 7, 2, 5, 5, 7, 9])  # id 9: infrared only (no balance term)
    modality = torch.tensor([0, 0, 0, 0, 1, 1, 1, 1, 1])
    image = torch.randn(9, 6, generator=g, requires_grad=True)
    text_ids = torch.tensor([5, 2, 9, 7])  # any order
    text = torch.randn(4, 6, generator=g, requires_grad=True)
    value = hsa_text_loss(image, modality, labels, text, text_ids, 0.2, balance)
    ref = _ref_hsa(image.detach(), modality, labels, text.detach(), text_ids, 0.2, balance)
    assert float(value) == pytest.approx(ref, rel=1e-10)
    _grad_check(lambda a, b: hsa_text_loss(a, modality, labels, b, text_ids, 0.2, balance), image, text)


def test_hsa_balance_is_zero_when_the_text_is_equally_close_to_both_modalities(f64):
    text = torch.tensor([[1.0, 0.0, 0.0]])
    image = torch.tensor([[1.0, 1.0, 0.0], [1.0, 0.0, 1.0]])  # same cosine, different features
    labels, modality, ids = torch.tensor([0, 0]), torch.tensor([0, 1]), torch.tensor([0])
    only_fit = hsa_text_loss(image, modality, labels, text, ids, 0.1, balance=0.0)
    assert float(hsa_text_loss(image, modality, labels, text, ids, 0.1, balance=5.0)) == pytest.approx(float(only_fit))
    tilted = torch.tensor([[1.0, 1.0, 0.0]])
    gap = _cos(image[0], tilted[0]) - _cos(image[1], tilted[0])
    diff = hsa_text_loss(image, modality, labels, tilted, ids, 0.1, 5.0) - hsa_text_loss(image, modality, labels, tilted, ids, 0.1, 0.0)
    assert float(diff) == pytest.approx(5.0 * gap ** 2)


def test_hsa_text_loss_rejects_bad_text_ids(f64):
    image, text = torch.randn(2, 3), torch.randn(2, 3)
    labels, modality = torch.tensor([0, 1]), torch.tensor([0, 1])
    with pytest.raises(ValueError, match="distinct"):
        hsa_text_loss(image, modality, labels, text, torch.tensor([0, 0]), 0.1)
    with pytest.raises(ValueError, match="every label"):
        hsa_text_loss(image, modality, labels, text, torch.tensor([0, 2]), 0.1)


def test_identity_prototypes_use_visible_rows_and_fall_back_to_all_rows(f64):
    g = torch.Generator().manual_seed(2)
    feats = torch.randn(8, 4, generator=g)
    labels = torch.tensor([0, 0, 1, 1, 2, 2, 0, 1])
    use = torch.tensor([True, True, True, False, False, False, False, False])  # id 2: no visible row
    out = identity_prototypes(feats, labels, 3, use=use)
    torch.testing.assert_close(out, _ref_prototypes(feats, labels, 3, use))
    with pytest.raises(ValueError, match="no rows"):
        identity_prototypes(feats, labels, 4, use=use)


# -- the objective -----------------------------------------------------------------------------
def _outputs(n_ids=3, per=2, dim=6, classes=5, seed=0):
    g = torch.Generator().manual_seed(seed)
    outputs, labels = network_outputs(g, n_ids, per, dim, classes)
    class_text = torch.randn(classes, dim, generator=g)
    text = torch.randn(n_ids, dim, generator=g, requires_grad=True)
    return outputs, labels, class_text, text, torch.arange(n_ids)


def test_total_is_the_weighted_sum_of_reference_terms_with_split_gradients(f64):
    outputs, labels, class_text, text, ids = _outputs()
    cfg = CLIP4VIReIDConfig()
    res = clip4vi_reid_loss(cfg, outputs, labels, class_text, text=text, text_ids=ids)
    n = len(labels) // 2
    v, r = slice(0, n), slice(n, None)
    f = outputs["proj"]
    id_ = id_loss(outputs["logits"], labels) + id_loss(outputs["proj_logits"], labels)
    wrt = wrt_loss(outputs["pooled"], labels) + wrt_loss(outputs["proj"], labels)
    tsg = _ref_text_bridge(f[v].detach(), class_text, labels[v], cfg.temperature)
    ife = _ref_text_bridge(f[r].detach(), class_text, labels[r], cfg.temperature)
    hsa = _ref_hsa(f.detach(), outputs["modality"], labels, text.detach(), ids, cfg.temperature, cfg.balance)
    expected = float(id_) + 0.25 * float(wrt) + tsg + ife + hsa
    assert float(res.total) == pytest.approx(expected, rel=1e-9)
    for key, ref in {"tsg": tsg, "ife": ife, "hsa": hsa}.items():
        assert float(res.terms[key]) == pytest.approx(ref, rel=1e-9)
    # split gradients: HSA moves only the texts; TSG/IFE (and WRT) only the image features
    g_proj, g_text = torch.autograd.grad(res.total, [f, text])
    image_side = (0.25 * wrt_loss(f, labels) + text_bridge_loss(f[v], class_text, labels[v], cfg.temperature)
                  + text_bridge_loss(f[r], class_text, labels[r], cfg.temperature))
    torch.testing.assert_close(g_proj, torch.autograd.grad(image_side, [f])[0])
    text_side = hsa_text_loss(f.detach(), outputs["modality"], labels, text, ids, cfg.temperature, cfg.balance)
    torch.testing.assert_close(g_text, torch.autograd.grad(text_side, [text])[0])


@pytest.mark.parametrize("preset, keys, captions", [
    ("clip4vi-reid", {"id", "wrt", "tsg", "ife", "hsa"}, ()),
    ("clip4vi-reid-captions", {"id", "wrt", "tsg", "ife", "hsa"}, ("visible",)),
    ("clip4vi-reid-no-ife", {"id", "wrt", "tsg", "hsa"}, ()),
    ("clip4vi-reid-no-hsa", {"id", "wrt", "tsg", "ife"}, ()),
    ("clip4vi-reid-tsg", {"id", "wrt", "tsg"}, ()),
])
def test_each_variant_has_its_terms_and_needs_visible_captions_at_most(f64, preset, keys, captions):
    outputs, labels, class_text, text, ids = _outputs()
    cfg = method_config(preset)
    res = clip4vi_reid_loss(cfg, outputs, labels, class_text, text=text, text_ids=ids)
    assert set(res.terms) == keys | {"total"}
    assert torch.isfinite(res.total)
    method = resolve(preset).method
    assert method.name == "clip4vi-reid"
    assert method.needs(cfg).captions == captions  # infrared captions never required
    assert [s.name for s in method.stages(cfg)] == ["tsg"]


def test_config_validation():
    with pytest.raises(ConfigError, match="tsg"):
        from_dict(CLIP4VIReIDConfig, {"tsg": "llava"})
    with pytest.raises(ConfigError, match="temperature"):
        from_dict(CLIP4VIReIDConfig, {"temperature": 0})
    with pytest.raises(ConfigError, match="stage"):
        from_dict(CLIP4VIReIDConfig, {"stage": {"epochs": 0}})
    cfg = method_config("clip4vi-reid-no-hsa", {"weights": {"ife": 0.5}})
    assert cfg.weights.ife == 0.5 and cfg.use_hsa is False and cfg.weights.tsg == 1.0
    with pytest.raises(VireidError, match="HSA"):
        clip4vi_reid_loss(CLIP4VIReIDConfig(), *_outputs()[:3])


# -- the network-facing parts ------------------------------------------------------------------
@pytest.fixture
def tiny():
    from vireid.models import TINY_MODEL_NAME, ModelConfig, build_model

    torch.manual_seed(0)
    return build_model(ModelConfig(name=TINY_MODEL_NAME, pretrained="none", image_size=(64, 32)), num_classes=4)


def _context(model, labels, modalities, captions=None, saved=None, sink=None, feats=None):
    from contextlib import nullcontext
    from pathlib import Path

    from vireid.methods.base import StageContext

    n = len(labels)
    g = torch.Generator().manual_seed(5)
    feats = torch.randn(n, model.text.text_projection.shape[1], generator=g) if feats is None else feats
    return StageContext(model=model, num_classes=int(max(labels)) + 1, labels=np.asarray(labels),
                        modalities=np.asarray(modalities), captions=captions, device=torch.device("cpu"),
                        seed=0, autocast=nullcontext, image_features=lambda key="proj": feats.clone(),
                        log=lambda line: None, progress=False,
                        save_progress=(lambda state: sink.append(copy.deepcopy(state))) if sink is not None else (lambda state: None),
                        load_progress=lambda: saved, run_dir=Path("."))


def test_tsg_prompts_ignore_infrared_images(tiny):
    from vireid.methods.clip4vi_reid import TSGStageConfig

    labels = [0, 0, 1, 1, 2, 2, 3, 3] * 2
    modalities = ["visible"] * 8 + ["infrared"] * 8
    stage = TSGStage(TSGStageConfig(epochs=2, batch_size=4, warmup_epochs=0, lr=1e-2), "prompts", 0.07)
    feats = torch.randn(16, tiny.text.text_projection.shape[1], generator=torch.Generator().manual_seed(3))
    torch.manual_seed(0)  # the prompt contexts' random init
    a = stage.run(_context(tiny, labels, modalities, feats=feats), {})
    other = feats.clone()
    other[8:] = torch.randn(8, other.shape[1])  # different infrared features
    torch.manual_seed(0)
    b = stage.run(_context(tiny, labels, modalities, feats=other), {})
    torch.testing.assert_close(a["ctx"], b["ctx"])
    assert len(a["history"]) == 2 and a["class_text"].shape == (4, tiny.text.text_projection.shape[1])
    assert all(p.requires_grad for p in tiny.text.parameters())  # restored after the stage


def test_tsg_captions_read_visible_captions_only_and_resume_mid_stage(tiny):
    from vireid.methods.clip4vi_reid import TSGStageConfig

    labels = [0, 1, 2, 3, 0, 1, 2, 3]
    modalities = ["visible"] * 4 + ["infrared"] * 4
    captions = ["a man in red", "a woman in blue", "a child with a bag", "a man in a coat"] + ["IGNORED"] * 4
    stage = TSGStage(TSGStageConfig(caption_batch_size=3), "captions", 0.07)
    sink: list = []
    full = stage.run(_context(tiny, labels, modalities, captions, sink=sink), {})
    assert len(sink) == 2  # two chunks of visible captions, progress after each
    from vireid.tokenizer import tokenize

    with torch.no_grad():
        expected = F.normalize(tiny.encode_text(tokenize(captions[:4])), dim=-1)
    torch.testing.assert_close(full["class_text"], expected)
    changed = captions[:4] + ["a totally different infrared caption"] * 4
    resumed = stage.run(_context(tiny, labels, modalities, changed, saved=sink[0]), {})
    torch.testing.assert_close(resumed["class_text"], full["class_text"])


def test_objective_trains_the_image_encoder_and_the_refined_prompts(tiny):
    from vireid.methods.base import TrainBatch

    cfg = CLIP4VIReIDConfig()
    dim = tiny.text.text_projection.shape[1]
    tsg = {"class_text": torch.randn(4, dim), "ctx": torch.randn(4, cfg.stage.n_ctx, tiny.text.width) * 0.02}
    objective = CLIP4VIReIDObjective(cfg, tiny, tsg)
    assert set(objective.extra_state()) == {"bank", "prompt.ctx"}
    assert any(p is objective.prompt.ctx for p in objective.param_groups()["heads"])
    assert "text" not in objective.param_groups() or not objective.param_groups()["text"]
    g = torch.Generator().manual_seed(0)
    batch = TrainBatch(visible=torch.randn(4, 3, 64, 32, generator=g), infrared=torch.randn(4, 3, 64, 32, generator=g),
                       labels=torch.tensor([0, 0, 2, 2] * 2), tokens=None, generator=g, epoch=0, step=0)
    before = objective.bank.clone()
    result = objective(batch)
    result.total.backward()
    assert objective.prompt.ctx.grad[[0, 2]].abs().sum() > 0 and objective.prompt.ctx.grad[[1, 3]].abs().sum() == 0
    assert tiny.stems["infrared"].conv1.weight.grad is not None
    assert torch.equal(objective.bank[[1, 3]], before[[1, 3]]) and not torch.equal(objective.bank[[0, 2]], before[[0, 2]])


def test_tsg_prompts_resumed_from_saved_progress_equal_the_uninterrupted_stage(tiny):
    from vireid.methods.clip4vi_reid import TSGStageConfig

    labels = [0, 0, 1, 1, 2, 2, 3, 3] * 2
    modalities = ["visible"] * 8 + ["infrared"] * 8
    stage = TSGStage(TSGStageConfig(epochs=3, batch_size=4, warmup_epochs=1, lr=1e-2), "prompts", 0.07)
    sink: list = []
    torch.manual_seed(0)
    straight = stage.run(_context(tiny, labels, modalities, sink=sink), {})
    torch.manual_seed(1)  # a different init is overwritten by the saved contexts
    resumed = stage.run(_context(tiny, labels, modalities, saved=sink[0]), {})
    torch.testing.assert_close(resumed["ctx"], straight["ctx"])
    assert resumed["history"] == straight["history"]
