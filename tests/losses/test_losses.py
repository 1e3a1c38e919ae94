"""The shared losses: each one against a direct, loop-by-loop reading of its paper equation
(ID Eq. 1 and WRT Eq. 2 of EEES; the supervised contrastive loss of Khosla et al. 2020)."""

from __future__ import annotations

import math

import pytest
import torch

from vireid.losses import id_loss, supcon_loss, wrt_loss



@pytest.fixture(autouse=True)
def _float64():
    # Double precision so reference and implementation agree to tight tolerances.
    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    yield
    torch.set_default_dtype(previous)


def _grads(fn, *tensors):
    leaves = [t.clone().requires_grad_(True) for t in tensors]
    value = fn(*leaves)
    value.backward()
    return value.detach(), [leaf.grad for leaf in leaves]


def _assert_same(fn_a, fn_b, *tensors):
    va, ga = _grads(fn_a, *tensors)
    vb, gb = _grads(fn_b, *tensors)
    torch.testing.assert_close(va, vb)
    for a, b in zip(ga, gb):
        torch.testing.assert_close(a, b)


# ---------------------------------------------------------------- Eq. 1
def ref_id(logits, labels):
    n = len(labels)
    return sum(-torch.log_softmax(logits[i], 0)[labels[i]] for i in range(n)) / n


def test_id_loss_is_batch_mean_cross_entropy_equal_to_half_eq1():
    g = torch.Generator().manual_seed(0)
    logits, labels = torch.randn(8, 5, generator=g), torch.tensor([0, 1, 2, 3, 0, 1, 2, 3])
    _assert_same(lambda x: id_loss(x, labels), lambda x: ref_id(x, labels), logits)
    eq1 = ref_id(logits[:4], labels[:4]) + ref_id(logits[4:], labels[4:])
    torch.testing.assert_close(id_loss(logits, labels), eq1 / 2)


def test_id_loss_label_smoothing_changes_value_and_rejects_bad_shapes():
    logits, labels = torch.randn(4, 3), torch.tensor([0, 1, 2, 0])
    assert not torch.isclose(id_loss(logits, labels), id_loss(logits, labels, label_smoothing=0.1))
    with pytest.raises(ValueError):
        id_loss(logits, labels[:3])


# ---------------------------------------------------------------- Eq. 2
def ref_wrt(x, labels):
    terms = []
    for i in range(len(x)):
        pos = [j for j in range(len(x)) if j != i and labels[j] == labels[i]]
        neg = [k for k in range(len(x)) if labels[k] != labels[i]]
        if not pos or not neg:
            continue
        dp = torch.stack([torch.linalg.norm(x[i] - x[j]) for j in pos])
        dn = torch.stack([torch.linalg.norm(x[i] - x[k]) for k in neg])
        wp = (torch.exp(dp) / torch.exp(dp).sum() * dp).sum()
        wn = (torch.exp(-dn) / torch.exp(-dn).sum() * dn).sum()
        terms.append(torch.log(1 + torch.exp(wp - wn)))
    return torch.stack(terms).mean()


def test_wrt_loss_matches_eq2_values_and_gradients():
    g = torch.Generator().manual_seed(1)
    x = torch.randn(12, 6, generator=g)
    labels = torch.tensor([0, 0, 1, 1, 2, 2, 0, 0, 1, 1, 2, 2])
    _assert_same(lambda f: wrt_loss(f, labels), lambda f: ref_wrt(f, labels), x)


def test_wrt_loss_skips_anchors_without_positive():
    g = torch.Generator().manual_seed(2)
    x = torch.randn(5, 4, generator=g)
    labels = torch.tensor([0, 0, 1, 1, 2])  # identity 2 has no positive
    _assert_same(lambda f: wrt_loss(f, labels), lambda f: ref_wrt(f, labels), x)


@pytest.mark.parametrize(
    "x, labels",
    [
        (torch.ones(4, 3), torch.tensor([0, 0, 1, 1])),  # all distances zero
        (torch.randn(4, 3), torch.tensor([5, 5, 5, 5])),  # one identity: no negatives
        (torch.randn(3, 3), torch.tensor([0, 1, 2])),  # no positives
    ],
)
def test_wrt_loss_degenerate_batches_are_finite(x, labels):
    value, (grad,) = _grads(lambda f: wrt_loss(f, labels), x)
    assert torch.isfinite(value) and torch.isfinite(grad).all()


def test_wrt_loss_identical_features_give_log2():
    value = wrt_loss(torch.zeros(4, 3), torch.tensor([0, 0, 1, 1]))
    torch.testing.assert_close(value, torch.tensor(math.log(2.0)))


def test_wrt_loss_without_triplets_is_zero():
    assert wrt_loss(torch.randn(4, 3), torch.tensor([5, 5, 5, 5])).item() == 0.0


# ---------------------------------------------------------------- SupCon (Khosla et al. 2020, Eq. 2)
def _supcon_loop(logits, la, lb):
    rows = []
    for i in range(logits.shape[0]):
        scores = [float(s) for s in logits[i]]
        top = max(scores)
        log_z = top + math.log(sum(math.exp(s - top) for s in scores))
        pos = [scores[j] - log_z for j in range(len(scores)) if int(lb[j]) == int(la[i])]
        if pos:
            rows.append(-sum(pos) / len(pos))
    return sum(rows) / len(rows)


def test_supcon_loss_matches_its_definition_and_leaves_out_anchors_without_positive():
    g = torch.Generator().manual_seed(0)
    logits = torch.randn(7, 6, generator=g) * 2
    la = torch.tensor([0, 1, 1, 2, 3, 0, 4])  # label 4 has no candidate: left out
    lb = torch.tensor([0, 0, 1, 2, 2, 3])
    assert supcon_loss(logits, la, lb).item() == pytest.approx(_supcon_loop(logits, la, lb), rel=1e-10)


def test_supcon_loss_without_any_positive_is_a_zero_that_backpropagates():
    logits = torch.randn(3, 2, requires_grad=True)
    got = supcon_loss(logits, torch.tensor([0, 1, 2]), torch.tensor([5, 6]))
    got.backward()
    assert got.item() == 0.0 and torch.equal(logits.grad, torch.zeros_like(logits))
    with pytest.raises(ValueError, match="supcon_loss"):
        supcon_loss(logits, torch.tensor([0, 1]), torch.tensor([0, 1]))


# ---------------------------------------------------------------- half precision
def test_half_precision_inputs_are_computed_in_float32():
    # Under autocast features arrive as fp16/bf16; the eps clamp must not underflow to zero.
    x = torch.ones(4, 3, dtype=torch.bfloat16, requires_grad=True)
    labels = torch.tensor([0, 0, 1, 1])
    value = wrt_loss(x, labels)
    value.backward()
    assert value.dtype == torch.float32 and torch.isfinite(x.grad).all()
