"""The MUN method: each loss against a loop implementation of its definition, the generator's
shapes and gradient flow, the variants, and a tiny training run whose checkpoint evaluates."""

from __future__ import annotations

import itertools

import pytest
import torch
import torch.nn.functional as F

from vireid.errors import ConfigError, VireidError
from vireid.losses import id_loss, wrt_loss
from vireid.methods import TrainBatch, method_config, resolve
from vireid.methods.mun import (
    AuxiliaryGenerator,
    MUNConfig,
    MUNObjective,
    identity_alignment_loss,
    modality_alignment_loss,
    mun_loss,
)




# -- loop references (the definitions, written the slow way) -----------------------------------
def _ial_loop(features, labels, modality):
    terms = []
    for k in sorted(set(labels.tolist())):
        centres = {}
        for m in sorted(set(modality.tolist())):
            rows = [i for i in range(len(labels)) if labels[i] == k and modality[i] == m]
            if rows:
                centres[m] = sum(features[i] / features[i].norm() for i in rows) / len(rows)
        for a, b in itertools.combinations(sorted(centres), 2):
            terms.append(torch.sqrt(sum((centres[a][d] - centres[b][d]) ** 2 for d in range(features.shape[1]))))
    return sum(terms) / len(terms)


def _mal_loop(features, modality):
    stats = []
    for m in (0, 1):
        rows = [features[i] / features[i].norm() for i in range(len(modality)) if modality[i] == m]
        mu = [sum(r[d] for r in rows) / len(rows) for d in range(features.shape[1])]
        sd = [torch.sqrt(sum((r[d] - mu[d]) ** 2 for r in rows) / len(rows) + 1e-12) for d in range(features.shape[1])]
        stats.append((mu, sd))
    (mu_v, sd_v), (mu_r, sd_r) = stats
    return sum((mu_v[d] - mu_r[d]) ** 2 + (sd_v[d] - sd_r[d]) ** 2 for d in range(features.shape[1]))


def _three_streams(seed=0, n_ids=3, per=2, dim=5):
    g = torch.Generator().manual_seed(seed)
    half = torch.arange(n_ids).repeat_interleave(per)
    labels = torch.cat([half, half, half])
    modality = torch.arange(3).repeat_interleave(len(half))
    features = torch.randn(len(labels), dim, generator=g, dtype=torch.float64, requires_grad=True)
    return features, labels, modality


def _grads(fn, x):
    (g,) = torch.autograd.grad(fn(x), x)
    return g


# -- identity alignment loss ---------------------------------------------------------------------
def test_identity_alignment_matches_loop_values_and_gradients(f64):
    x, labels, modality = _three_streams()
    # uneven groups: drop identity 2 from the auxiliary stream and one visible row of identity 0
    keep = ~((labels == 2) & (modality == 2))
    keep[0] = False
    x2 = x.detach()[keep].clone().requires_grad_(True)
    for feats, lab, mod in ((x, labels, modality), (x2, labels[keep], modality[keep])):
        value = identity_alignment_loss(feats, lab, mod)
        torch.testing.assert_close(value, _ial_loop(feats, lab, mod))
        torch.testing.assert_close(_grads(lambda f: identity_alignment_loss(f, lab, mod), feats),
                                   _grads(lambda f: _ial_loop(f, lab, mod), feats))


def test_identity_alignment_is_zero_when_aligned_and_on_degenerate_batches(f64):
    centre = torch.randn(2, 4)
    feats = torch.cat([centre, centre * 3.0, centre]).requires_grad_(True)  # same directions per identity
    labels = torch.tensor([0, 1] * 3)
    modality = torch.tensor([0, 0, 1, 1, 2, 2])
    assert identity_alignment_loss(feats, labels, modality).item() == pytest.approx(0.0, abs=1e-6)
    # one modality only: nothing to align, an exact 0 that back-propagates
    single = torch.randn(4, 3, requires_grad=True)
    value = identity_alignment_loss(single, torch.tensor([0, 0, 1, 1]), torch.zeros(4, dtype=torch.long))
    value.backward()
    assert value.item() == 0.0 and torch.equal(single.grad, torch.zeros_like(single))
    # identical features everywhere: zero distances, finite gradients
    same = torch.ones(6, 3, requires_grad=True)
    identity_alignment_loss(same, labels, modality).backward()
    assert torch.isfinite(same.grad).all()


# -- modality alignment loss ---------------------------------------------------------------------
def test_modality_alignment_matches_loop_values_and_gradients(f64):
    x, _, modality = _three_streams(seed=1)
    torch.testing.assert_close(modality_alignment_loss(x, modality), _mal_loop(x, modality))
    torch.testing.assert_close(_grads(lambda f: modality_alignment_loss(f, modality), x),
                               _grads(lambda f: _mal_loop(f, modality), x))
    # auxiliary rows (modality 2) are not part of it
    vr = modality < 2
    torch.testing.assert_close(modality_alignment_loss(x, modality), modality_alignment_loss(x[vr], modality[vr]))


def test_modality_alignment_degenerate_batches(f64):
    x = torch.randn(4, 3, requires_grad=True)
    value = modality_alignment_loss(x, torch.zeros(4, dtype=torch.long))  # no infrared rows
    value.backward()
    assert value.item() == 0.0 and torch.equal(x.grad, torch.zeros_like(x))
    same = torch.ones(4, 3, requires_grad=True)  # identical rows: zero spread, zero distance
    value = modality_alignment_loss(same, torch.tensor([0, 0, 1, 1]))
    value.backward()
    assert value.item() == pytest.approx(0.0, abs=1e-9) and torch.isfinite(same.grad).all()
    # one row per modality: a plain squared distance of the two unit vectors (+ 0 spread)
    two = torch.randn(2, 3)
    expected = (F.normalize(two[0], dim=0) - F.normalize(two[1], dim=0)).pow(2).sum()
    torch.testing.assert_close(modality_alignment_loss(two, torch.tensor([0, 1])), expected)


def test_losses_compute_in_float32_under_half_inputs():
    x, labels, modality = _three_streams()
    half = x.detach().to(torch.bfloat16)
    assert identity_alignment_loss(half, labels, modality).dtype == torch.float32
    assert modality_alignment_loss(half, modality).dtype == torch.float32


# -- the total and the variants ------------------------------------------------------------------
def _outputs(seed=0, classes=4):
    x, labels, modality = _three_streams(seed=seed)
    g = torch.Generator().manual_seed(seed + 10)
    b = len(labels)
    return {
        "logits": torch.randn(b, classes, generator=g, requires_grad=True),
        "proj_logits": torch.randn(b, classes, generator=g, requires_grad=True),
        "pooled": torch.randn(b, 7, generator=g, requires_grad=True),
        "proj": x,
        "modality": modality,
    }, labels


def test_mun_total_is_the_weighted_sum_of_reference_terms(f64):
    out, labels = _outputs()
    cfg = MUNConfig()
    res = mun_loss(cfg, out, labels)
    mod = out["modality"]
    id_ = id_loss(out["logits"], labels) + id_loss(out["proj_logits"], labels)
    wrt = wrt_loss(out["pooled"], labels) + wrt_loss(out["proj"], labels)
    ial = _ial_loop(out["pooled"], labels, mod) + _ial_loop(out["proj"], labels, mod)
    mal = _mal_loop(out["pooled"], mod) + _mal_loop(out["proj"], mod)
    torch.testing.assert_close(res.total, id_ + 0.25 * wrt + 0.5 * ial + 1.0 * mal)
    for key, ref in {"id": id_, "wrt": wrt, "ial": ial, "mal": mal}.items():
        torch.testing.assert_close(res.terms[key], ref.detach())


@pytest.mark.parametrize("name, keys", [
    ("mun", {"id", "wrt", "ial", "mal"}),
    ("mun-no-aux", {"id", "wrt", "ial", "mal"}),
    ("mun-no-ial", {"id", "wrt", "mal"}),
    ("mun-no-mal", {"id", "wrt", "ial"}),
])
def test_each_variant_switches_one_component(name, keys, f64):
    cfg = method_config(name)
    assert resolve(name).method.name == "mun"
    assert cfg.use_aux == (name != "mun-no-aux")
    out, labels = _outputs()
    assert set(mun_loss(cfg, out, labels).terms) == keys | {"total"}


def test_config_validation():
    with pytest.raises(ConfigError, match="reduction"):
        method_config("mun", {"reduction": 0})
    with pytest.raises(ConfigError, match="weights.ial"):
        method_config("mun", {"weights": {"ial": -1.0}})


# -- generator and objective on the tiny network ---------------------------------------------------
@pytest.fixture
def tiny():
    from vireid.models import TINY_MODEL_NAME, ModelConfig, build_model

    torch.manual_seed(0)
    return build_model(ModelConfig(name=TINY_MODEL_NAME, pretrained="none", image_size=(64, 32)), num_classes=4)


def _batch(n_ids=2, per=2, seed=0, labels=None):
    g = torch.Generator().manual_seed(seed)
    half = torch.arange(n_ids).repeat_interleave(per) if labels is None else labels
    n = len(half)
    return TrainBatch(visible=torch.randn(n, 3, 64, 32, generator=g), infrared=torch.randn(n, 3, 64, 32, generator=g),
                      labels=torch.cat([half, half]), tokens=None, generator=torch.Generator().manual_seed(1),
                      epoch=0, step=0)


def test_generator_output_shape_and_initial_mixup():
    torch.manual_seed(0)
    gen = AuxiliaryGenerator(8, reduction=4)
    x_v, x_r = torch.rand(3, 8, 6, 4), torch.rand(3, 8, 6, 4)
    aux = gen(x_v, x_r)
    assert aux.shape == x_v.shape and torch.isfinite(aux).all()
    # at initialisation the auxiliary map is close to the mean of the pair (small learned residuals)
    assert (aux - (x_v + x_r) / 2).abs().mean() < 0.1 * ((x_v + x_r) / 2).abs().mean()
    with pytest.raises(ValueError, match="one shape"):
        gen(x_v, x_r[:2])


def test_forward_maps_equals_forward(tiny):
    tiny.eval()
    b = _batch()
    with torch.no_grad():
        ref = tiny(visible=b.visible, infrared=b.infrared)
        maps = torch.cat([tiny.stem_map(b.visible, "visible"), tiny.stem_map(b.infrared, "infrared")])
        out = tiny.forward_maps(maps, ref["modality"])
    for key in ref:
        assert torch.equal(out[key], ref[key]), key


def test_auxiliary_stream_trains_the_generator(tiny):
    tiny.train()
    objective = MUNObjective(MUNConfig(), tiny)
    b = _batch()
    out, labels = objective.streams(b.visible, b.infrared, b.labels)
    n = b.visible.shape[0]
    assert out["pooled"].shape[0] == 3 * n and torch.equal(out["modality"], torch.arange(3).repeat_interleave(n))
    assert torch.equal(labels, torch.cat([b.labels, b.labels[:n]]))
    res = objective(b)
    assert torch.isfinite(res.total) and set(res.terms) == {"id", "wrt", "ial", "mal", "total"}
    res.total.backward()
    for name, p in objective.generator.named_parameters():
        assert p.grad is not None and p.grad.abs().sum() > 0, name
    assert tiny.stems["visible"].conv1.weight.grad.abs().sum() > 0
    # the generator trains at the visual learning rate; the text encoder is frozen (vision-only)
    groups = objective.param_groups()
    assert all(any(p is q for q in groups["visual"]) for p in objective.generator.parameters())
    assert groups["text"] == []
    # an ID-only loss on the auxiliary rows alone still reaches every generator parameter
    objective.zero_grad()
    out, labels = objective.streams(b.visible, b.infrared, b.labels)
    aux = out["modality"] == 2
    id_loss(out["logits"][aux], labels[aux]).backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in objective.generator.parameters())


def test_no_aux_variant_has_no_generator_and_matches_two_streams(tiny):
    objective = MUNObjective(method_config("mun-no-aux"), tiny)
    assert not hasattr(objective, "generator") and objective.extra_state() == {}
    res = objective(_batch())
    assert torch.isfinite(res.total)


def test_misaligned_pairs_are_a_clear_error(tiny):
    objective = MUNObjective(MUNConfig(), tiny)
    b = _batch()
    b.labels = torch.tensor([0, 0, 1, 1, 1, 1, 0, 0])
    with pytest.raises(VireidError, match="share an identity"):
        objective(b)
