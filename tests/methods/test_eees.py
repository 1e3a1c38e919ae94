"""The EEES method: Eq. 13 as the weighted sum of reference terms, one variant per Table 3 row."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from vireid.config import from_dict
from vireid.errors import ConfigError, VireidError
from vireid.losses import id_loss, wrt_loss
from vireid.methods.eees.losses import cmsp_loss, contrastive_loss, cvsc_fuse, cvsc_partners, kd_loss
from vireid.methods import method_config
from vireid.methods.eees import EEESConfig
from vireid.methods.eees.objective import eees_loss

from tests.methods.fakes import network_outputs

pytestmark = pytest.mark.usefixtures("f64")




def _batch(n_ids=3, per=2, dim=6, classes=5, seed=0):
    g = torch.Generator().manual_seed(seed)
    outputs, labels = network_outputs(g, n_ids, per, dim, classes)
    text = torch.randn(len(labels), dim, generator=g, requires_grad=True)
    return outputs, labels, text


def test_eees_total_is_eq13_weighted_sum_of_reference_terms():
    outputs, labels, text = _batch()
    cfg = EEESConfig()
    res = eees_loss(cfg, outputs, labels, text=text, generator=torch.Generator().manual_seed(3))
    f = F.normalize(outputs["proj"], dim=1)
    t = F.normalize(text, dim=1)
    n = len(labels) // 2
    v, r = slice(0, n), slice(n, None)
    id_ = id_loss(outputs["logits"], labels) + id_loss(outputs["proj_logits"], labels)
    wrt = wrt_loss(outputs["pooled"], labels) + wrt_loss(outputs["proj"], labels)
    con_o = contrastive_loss(f[v], t[v], cfg.temperature) + contrastive_loss(f[r], t[r], cfg.temperature)
    g = torch.Generator().manual_seed(3)
    con_m = kd = 0
    for half in (v, r):
        p = cvsc_partners(labels[half], 1, g)
        fm, tm = cvsc_fuse(f[half], labels[half], 1, partners=p), cvsc_fuse(t[half], labels[half], 1, partners=p)
        con_m = con_m + contrastive_loss(fm, tm, cfg.temperature)
        kd = kd + kd_loss(fm, f[half]) + kd_loss(tm, t[half])
    cm = cmsp_loss(f[v], f[r], t[v], t[r])
    expected = id_ + 0.25 * wrt + 0.2 * (con_o + con_m) + 0.08 * kd + 0.01 * cm
    torch.testing.assert_close(res.total, expected)
    for key, ref in {"id": id_, "wrt": wrt, "con_o": con_o, "con_m": con_m, "kd": kd, "cmsp": cm}.items():
        torch.testing.assert_close(res.terms[key], ref.detach())
    res.total.backward()
    assert text.grad is not None and outputs["proj"].grad is not None


@pytest.mark.parametrize(
    "preset, keys",
    [
        ("baseline", {"id", "wrt"}),
        ("ise", {"id", "wrt", "ise"}),
        ("ese", {"id", "wrt", "con_o"}),
        ("ese-cvsc", {"id", "wrt", "con_o", "con_m", "kd"}),
        ("ese-cmsp", {"id", "wrt", "con_o", "cmsp"}),
        ("eees", {"id", "wrt", "con_o", "con_m", "kd", "cmsp"}),
    ],
)
def test_each_table3_row_is_one_preset_with_its_terms(preset, keys):
    outputs, labels, text = _batch()
    res = eees_loss(method_config(preset), outputs, labels, text=text, class_text=torch.randn(5, 6))
    assert set(res.terms) == keys | {"total"}
    assert torch.isfinite(res.total)


def test_config_validation_and_variant_overrides():
    cfg = method_config("eees", {"use_cvsc": False, "weights": {"kd": 0.5}, "m": 2})
    assert cfg.weights.kd == 0.5 and cfg.weights.wrt == 0.25 and cfg.m == 2
    with pytest.raises(ConfigError, match="use_ise"):
        from_dict(EEESConfig, {"use_ise": True})
    with pytest.raises(ConfigError, match="need use_ese"):
        from_dict(EEESConfig, {"use_ese": False, "use_cvsc": True, "use_cmsp": False})
    with pytest.raises(ConfigError, match="unknown 'nope'"):
        method_config("nope")
    assert method_config("eees") is not method_config("eees")


def test_total_loss_reports_missing_inputs_and_misaligned_cmsp_pairs():
    outputs, labels, text = _batch()
    with pytest.raises(VireidError, match="caption feature"):
        eees_loss(method_config("ese"), outputs, labels)
    with pytest.raises(VireidError, match="class_text"):
        eees_loss(method_config("ise"), outputs, labels)
    shuffled = labels.clone()
    shuffled[6:] = shuffled[6:].flip(0)
    with pytest.raises(VireidError, match="CMSP"):
        eees_loss(method_config("ese-cmsp"), outputs, shuffled, text=text)
