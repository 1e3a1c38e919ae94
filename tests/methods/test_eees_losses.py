"""EEES's own losses (vireid.methods.eees.losses): each one against a direct, loop-by-loop
reading of its paper equation."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from tests.losses.test_losses import _assert_same, _grads, ref_id
from vireid.errors import VireidError
from vireid.losses import supervised_contrastive_loss
from vireid.methods.eees.losses import cmsp_loss, contrastive_loss, cvsc_fuse, cvsc_partners, kd_loss, prompt_ce_loss


# Double precision (tests/methods/conftest.py), so reference and implementation agree tightly.
pytestmark = pytest.mark.usefixtures("f64")


# ---------------------------------------------------------------- Eq. 3-5
def ref_contrastive(f, t, tau):
    n = len(f)

    def s(a, b):
        return torch.dot(a, b) / (torch.linalg.norm(a) * torch.linalg.norm(b)) / tau

    i2t = -sum(torch.log(torch.exp(s(f[i], t[i])) / sum(torch.exp(s(f[i], t[j])) for j in range(n))) for i in range(n)) / n
    t2i = -sum(torch.log(torch.exp(s(t[i], f[i])) / sum(torch.exp(s(t[i], f[j])) for j in range(n))) for i in range(n)) / n
    return i2t + t2i


def test_contrastive_loss_matches_eq3_to_5():
    g = torch.Generator().manual_seed(3)
    f, t = torch.randn(6, 8, generator=g), torch.randn(6, 8, generator=g)
    _assert_same(lambda a, b: contrastive_loss(a, b, 0.1), lambda a, b: ref_contrastive(a, b, 0.1), f, t)


def test_contrastive_loss_is_low_for_matched_pairs_and_checks_shapes():
    f = torch.eye(4)
    assert contrastive_loss(f, f, 0.01) < 1e-6 < contrastive_loss(f, f.flip(0), 0.01)
    with pytest.raises(ValueError):
        contrastive_loss(torch.randn(3, 4), torch.randn(2, 4), 0.1)


def test_supervised_contrastive_treats_same_identity_rows_as_positives():
    g = torch.Generator().manual_seed(4)
    f, t = torch.randn(4, 5, generator=g), torch.randn(4, 5, generator=g)
    labels = torch.tensor([0, 0, 1, 1])
    logits = F.normalize(f, dim=1) @ F.normalize(t, dim=1).T / 0.5
    pos = (labels[:, None] == labels[None]).double()
    ref = -((torch.log_softmax(logits, 1) * pos).sum(1) / 2).mean() - ((torch.log_softmax(logits.T, 1) * pos).sum(1) / 2).mean()
    torch.testing.assert_close(supervised_contrastive_loss(f, t, labels, 0.5), ref)
    # with all-distinct labels it is exactly the paired InfoNCE
    distinct = torch.arange(4)
    torch.testing.assert_close(supervised_contrastive_loss(f, t, distinct, 0.5), contrastive_loss(f, t, 0.5))


def test_prompt_ce_loss_is_cross_entropy_over_identity_prompts():
    g = torch.Generator().manual_seed(5)
    f, prompts, labels = torch.randn(4, 5, generator=g), torch.randn(3, 5, generator=g), torch.tensor([0, 2, 1, 2])
    logits = F.normalize(f, dim=1) @ F.normalize(prompts, dim=1).T / 0.2
    torch.testing.assert_close(prompt_ce_loss(f, prompts, labels, 0.2), ref_id(logits, labels))


# ---------------------------------------------------------------- Eq. 6-7
def test_cvsc_partners_share_identity_exclude_self_and_are_reproducible():
    labels = torch.tensor([3, 3, 3, 7, 7, 7, 9, 9, 9])
    p1 = cvsc_partners(labels, 2, torch.Generator().manual_seed(11))
    p2 = cvsc_partners(labels, 2, torch.Generator().manual_seed(11))
    assert p1.shape == (9, 2) and torch.equal(p1, p2)
    for i in range(9):
        assert i not in p1[i].tolist() and len(set(p1[i].tolist())) == 2
        assert all(labels[j] == labels[i] for j in p1[i].tolist())
    draws = {tuple(cvsc_partners(labels, 1, torch.Generator().manual_seed(s)).flatten().tolist()) for s in range(10)}
    assert len(draws) > 1  # really random across seeds


def test_cvsc_partners_are_uniform_over_the_identitys_other_rows():
    labels = torch.tensor([5, 5, 5, 5, 8, 8, 8])
    gen = torch.Generator().manual_seed(0)
    picks = torch.stack([cvsc_partners(labels, 2, gen) for _ in range(600)])    # [600, 7, 2]
    counts = torch.bincount(picks[:, 0].flatten(), minlength=7)      # row 0's partners
    assert counts[0] == 0 and counts[4:].sum() == 0
    assert all(abs(int(c) - 400) < 60 for c in counts[1:4])          # 2 of 3 others: 400 each


def test_cvsc_fuse_is_mean_with_partners_eq6_and_same_draw_for_text():
    labels = torch.tensor([0, 0, 1, 1, 1])
    f = torch.randn(5, 4)
    t = torch.randn(5, 4)
    fused = cvsc_fuse(f, labels, 1, torch.Generator().manual_seed(0))
    partners = cvsc_partners(labels, 1, torch.Generator().manual_seed(0))
    for i in range(5):
        torch.testing.assert_close(fused[i], (f[i] + f[partners[i, 0]]) / 2)
    torch.testing.assert_close(cvsc_fuse(t, labels, 1, partners=partners)[0], (t[0] + t[1]) / 2)
    torch.testing.assert_close(cvsc_fuse(f, labels, 0), f)


def test_cvsc_needs_m_plus_one_samples_per_identity():
    with pytest.raises(VireidError, match="identity label 1 has 1 sample"):
        cvsc_partners(torch.tensor([0, 0, 1]), 1)


# ---------------------------------------------------------------- Eq. 11
def test_kd_loss_is_mean_squared_l2_and_only_single_gets_gradient():
    fused = torch.randn(3, 4, requires_grad=True)
    single = torch.randn(3, 4, requires_grad=True)
    value = kd_loss(fused, single)
    ref = sum(torch.sum((fused[i] - single[i]) ** 2) for i in range(3)) / 3
    torch.testing.assert_close(value, ref)
    torch.testing.assert_close(value, F.mse_loss(fused, single) * 4)
    value.backward()
    assert fused.grad is None
    torch.testing.assert_close(single.grad, 2 * (single - fused).detach() / 3)


# ---------------------------------------------------------------- Eq. 12
def test_cmsp_loss_matches_eq12_values_and_gradients():
    g = torch.Generator().manual_seed(6)
    tensors = [torch.randn(4, 5, generator=g) for _ in range(4)]

    def ref(f_v, f_r, t_v, t_r):
        n = len(f_v)
        d = torch.linalg.norm
        a = sum((d(f_v[i] - t_v[i]) - d(f_v[i] - t_r[i])) ** 2 for i in range(n)) / n
        b = sum((d(f_r[i] - t_r[i]) - d(f_r[i] - t_v[i])) ** 2 for i in range(n)) / n
        return a + b

    _assert_same(cmsp_loss, ref, *tensors)


def test_cmsp_loss_zero_when_captions_agree_and_finite_at_zero_distance():
    f = torch.randn(3, 4)
    t = torch.randn(3, 4)
    assert cmsp_loss(f, f.clone(), t, t.clone()).item() == pytest.approx(0.0, abs=1e-12)
    value, grads = _grads(cmsp_loss, f, f, f, f)
    assert torch.isfinite(value) and all(torch.isfinite(g).all() for g in grads)


# ---------------------------------------------------------------- half precision
def test_half_precision_inputs_are_computed_in_float32():
    f = torch.ones(2, 3, dtype=torch.float16, requires_grad=True)
    cm = cmsp_loss(f, f, f, f)
    cm.backward()
    assert torch.isfinite(f.grad).all()
    assert contrastive_loss(f.detach(), f.detach(), 0.01).dtype == torch.float32
