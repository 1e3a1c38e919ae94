"""Loss functions of the field: pure tensor functions, one paper equation each.

Methods (``vireid.methods``) compose them into their objectives; nothing here knows a method.
"""

from vireid.losses.cmsp import cmsp_loss
from vireid.losses.contrastive import contrastive_loss, prompt_ce_loss, similarity, supervised_contrastive_loss
from vireid.losses.cvsc import cvsc_fuse, cvsc_partners, kd_loss
from vireid.losses.identity import id_loss
from vireid.losses.triplet import pairwise_euclidean, wrt_loss

__all__ = [
    "cmsp_loss", "contrastive_loss", "cvsc_fuse", "cvsc_partners", "id_loss", "kd_loss",
    "pairwise_euclidean", "prompt_ce_loss", "similarity", "supervised_contrastive_loss", "wrt_loss",
]
