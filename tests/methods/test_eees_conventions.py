"""EEES loss conventions (issue 14): SupCon vs pair positives, raw vs normalised text space,
KD reduction, the second visible view and per-term gradient norms, each against a plain
loop implementation (values and gradients)."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from vireid.errors import ConfigError
from vireid.methods.eees.losses import contrastive_loss, kd_loss, prompt_ce_loss
from vireid.methods.eees import EEESConfig
from vireid.methods import term_grad_norms
from vireid.methods.eees.objective import eees_loss

pytestmark = pytest.mark.usefixtures("f64")




def _loop_contrastive(image, text, labels, temperature, normalize, identity):
    """Eq. 3-5 written with explicit loops (one modality): i2t + t2i."""
    n = image.shape[0]
    if normalize:
        image, text = F.normalize(image, dim=1), F.normalize(text, dim=1)

    def s(a, b):
        return (a * b).sum() / temperature

    def one_way(q, k):
        total = 0.0
        for i in range(n):
            denom = sum(torch.exp(s(q[i], k[j])) for j in range(n))
            pos = [j for j in range(n) if (labels[j] == labels[i] if identity else j == i)]
            total = total - sum(torch.log(torch.exp(s(q[i], k[j])) / denom) for j in pos) / len(pos)
        return total / n

    return one_way(image, text) + one_way(text, image)


@pytest.mark.parametrize("identity", [False, True])
@pytest.mark.parametrize("normalize", [True, False])
def test_contrastive_matches_loop_values_and_gradients(identity, normalize):
    g = torch.Generator().manual_seed(0)
    labels = torch.tensor([0, 0, 1, 1, 2, 2, 2])
    scale = 1.0 if normalize else 0.3
    image = (scale * torch.randn(7, 5, generator=g)).requires_grad_()
    text = (scale * torch.randn(7, 5, generator=g)).requires_grad_()
    temperature = 0.07 if normalize else 1.0
    got = contrastive_loss(image, text, temperature, labels=labels if identity else None, normalize=normalize)
    want = _loop_contrastive(image, text, labels, temperature, normalize, identity)
    assert torch.allclose(got, want)
    g_got = torch.autograd.grad(got, (image, text))
    g_want = torch.autograd.grad(want, (image, text))
    for a, b in zip(g_got, g_want):
        assert torch.allclose(a, b)


def test_supcon_equals_pair_reading_when_labels_are_distinct():
    g = torch.Generator().manual_seed(1)
    image, text = torch.randn(4, 3, generator=g), torch.randn(4, 3, generator=g)
    assert torch.allclose(contrastive_loss(image, text, 0.1, labels=torch.arange(4)),
                          contrastive_loss(image, text, 0.1))


def test_pair_reading_pushes_same_identity_pairs_apart_supcon_does_not():
    # Rows 0 and 1 share an identity. Under the literal reading, raising image 0's similarity
    # to caption 1 raises the loss (caption 1 is a negative); under SupCon it lowers it.
    text = torch.eye(3)
    labels = torch.tensor([0, 0, 1])
    for identity, sign in ((False, 1.0), (True, -1.0)):
        image = torch.tensor([[1.0, 0.5, 0.0], [0.5, 1.0, 0.0], [0.0, 0.0, 1.0]], requires_grad=True)
        loss = contrastive_loss(image, text, 1.0, labels=labels if identity else None, normalize=False)
        (grad,) = torch.autograd.grad(loss, image)
        assert sign * float(grad[0] @ text[1]) > 0


def test_raw_similarity_is_the_dot_product():
    image = torch.tensor([[2.0, 0.0]])
    cls = torch.tensor([[3.0, 0.0], [0.0, 1.0]])
    got = prompt_ce_loss(image, cls, torch.tensor([0]), 1.0, normalize=False)
    assert torch.isclose(got, F.cross_entropy(torch.tensor([[6.0, 0.0]]), torch.tensor([0])))


def test_kd_reduction_mean_is_sum_over_dimension():
    g = torch.Generator().manual_seed(2)
    a, b = torch.randn(5, 8, generator=g), torch.randn(5, 8, generator=g)
    loop = sum(((a[i] - b[i]) ** 2).sum() for i in range(5)) / 5
    assert torch.isclose(kd_loss(a, b), loop)
    assert torch.isclose(kd_loss(a, b, "mean"), loop / 8)
    assert torch.isclose(kd_loss(a, b, "mean"), F.mse_loss(b, a))
    with pytest.raises(ValueError):
        kd_loss(a, b, "max")


def test_config_rejects_unknown_conventions():
    for key in ("positives", "text_space", "kd_reduction"):
        with pytest.raises(ConfigError):
            EEESConfig(**{key: "nope"}).validate()


def _outputs(n_vis_rows, n_ir_rows, dim=6, classes=5, seed=0):
    g = torch.Generator().manual_seed(seed)
    b = n_vis_rows + n_ir_rows
    return {
        "logits": torch.randn(b, classes, generator=g, requires_grad=True),
        "proj_logits": torch.randn(b, classes, generator=g, requires_grad=True),
        "pooled": torch.randn(b, dim + 2, generator=g, requires_grad=True),
        "proj": torch.randn(b, dim, generator=g, requires_grad=True),
        "modality": torch.cat([torch.zeros(n_vis_rows), torch.ones(n_ir_rows)]).long(),
    }


@pytest.mark.parametrize("space", ["normalized", "raw"])
def test_text_terms_follow_the_configured_space(space):
    labels_half = torch.arange(3).repeat_interleave(2)
    labels = torch.cat([labels_half, labels_half])
    out = _outputs(6, 6)
    text = torch.randn(12, 6, generator=torch.Generator().manual_seed(5))
    cfg = EEESConfig(use_cvsc=False, use_cmsp=False, text_space=space, positives="identity")
    res = eees_loss(cfg, out, labels, text=text)
    f, t = out["proj"], text
    if space == "normalized":
        f, t = F.normalize(f, dim=1), F.normalize(t, dim=1)
    temp = 0.07 if space == "normalized" else 1.0
    want = sum(_loop_contrastive(f[s], t[s], labels[s], temp, False, True) for s in (slice(0, 6), slice(6, None)))
    assert torch.isclose(res.terms["con_o"], want)


def test_second_view_rows_feed_id_and_wrt_text_terms_use_first_view():
    labels_half = torch.arange(3).repeat_interleave(2)
    # rows: [view1 (6); view2 (6); infrared (6)]
    labels = torch.cat([labels_half, labels_half, labels_half])
    out = _outputs(12, 6)
    text = torch.randn(12, 6, generator=torch.Generator().manual_seed(5))
    rows = torch.cat([torch.arange(6), torch.arange(12, 18)])
    cfg = EEESConfig()
    res = eees_loss(cfg, out, labels, text=text, text_rows=rows, generator=torch.Generator().manual_seed(3))
    sub = {k: v[rows] for k, v in out.items()}
    ref = eees_loss(cfg, sub, labels[rows], text=text, generator=torch.Generator().manual_seed(3))
    for k in ("con_o", "con_m", "kd", "cmsp"):
        assert torch.isclose(res.terms[k], ref.terms[k])
    assert not torch.isclose(res.terms["id"], ref.terms["id"])  # id sees all 18 rows
    from vireid.losses import id_loss
    assert torch.isclose(res.terms["id"], id_loss(out["logits"], labels) + id_loss(out["proj_logits"], labels))


def test_objective_concatenates_the_second_view():
    from vireid.methods import TrainBatch, method_config
    from vireid.methods.eees import EEESObjective

    seen = {}

    class Fake(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.text = torch.nn.Linear(2, 2)
            self.lin = torch.nn.Linear(4, 6)

        def forward(self, visible, infrared):
            x = torch.cat([visible, infrared]).flatten(1)[:, :4]
            seen["rows"] = x.shape[0]
            proj = self.lin(x)
            return {"logits": proj[:, :3], "pooled": proj, "proj": proj,
                    "modality": torch.cat([torch.zeros(len(visible)), torch.ones(len(infrared))]).long()}

    cfg = method_config("baseline")
    obj = EEESObjective(cfg, Fake())
    lab = torch.tensor([0, 0, 1, 1])
    batch = TrainBatch(visible=torch.randn(4, 1, 2, 2), infrared=torch.randn(4, 1, 2, 2),
                       labels=torch.cat([lab, lab]), tokens=None, generator=torch.Generator(), epoch=0,
                       step=0, extra_visible=(torch.randn(4, 1, 2, 2),))
    res = obj(batch)
    assert seen["rows"] == 12 and math.isfinite(float(res.total.detach()))


def test_grad_norms_match_autograd_and_leave_parameter_grads_alone():
    labels_half = torch.arange(3).repeat_interleave(2)
    labels = torch.cat([labels_half, labels_half])
    out = _outputs(6, 6)
    text = torch.randn(12, 6, generator=torch.Generator().manual_seed(5))
    cfg = EEESConfig()
    res = eees_loss(cfg, out, labels, text=text, generator=torch.Generator().manual_seed(3))
    norms = res.grad_norms()
    assert set(norms) == {"id", "wrt", "con_o", "con_m", "kd", "cmsp"}
    assert norms["id"] == 0.0  # the id heads' logits are separate tensors here
    # cmsp, measured alone
    (g,) = torch.autograd.grad(_cmsp_weighted(out, labels, text), out["proj"], retain_graph=True)
    assert math.isclose(norms["cmsp"], float(g.norm(dim=1).mean()), rel_tol=1e-9)
    # backward still works after probing
    res.total.backward()
    assert out["proj"].grad is not None
    assert term_grad_norms({"x": torch.tensor(1.0)}, out["proj"]) == {"x": 0.0}


def _cmsp_weighted(out, labels, text):  # 0.01 * Eq. 12 on the normalised features
    from vireid.methods.eees.losses import cmsp_loss
    f, t = F.normalize(out["proj"], dim=1), F.normalize(text, dim=1)
    return 0.01 * cmsp_loss(f[:6], f[6:], t[:6], t[6:])
