"""EEES losses: pure tensor functions (one paper equation each) and the Eq. 13 total."""

from vireid.training.losses.cmsp import cmsp_loss
from vireid.training.losses.contrastive import contrastive_loss, prompt_ce_loss, similarity, supervised_contrastive_loss
from vireid.training.losses.cvsc import cvsc_fuse, cvsc_partners, kd_loss
from vireid.training.losses.identity import id_loss
from vireid.training.losses.total import INFRARED, LOSS_PRESETS, VISIBLE, EEESLoss, LossConfig, LossResult, LossWeights, loss_preset
from vireid.training.losses.triplet import pairwise_euclidean, wrt_loss

TotalLoss = EEESLoss

__all__ = [
    "EEESLoss", "INFRARED", "LOSS_PRESETS", "LossConfig", "LossResult", "LossWeights", "TotalLoss", "VISIBLE",
    "cmsp_loss", "contrastive_loss", "cvsc_fuse", "cvsc_partners", "id_loss", "kd_loss", "loss_preset",
    "pairwise_euclidean", "prompt_ce_loss", "similarity", "supervised_contrastive_loss", "wrt_loss",
]
