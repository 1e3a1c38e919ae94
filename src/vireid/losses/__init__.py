"""Loss functions several methods share: pure tensor functions, one paper equation each.

Methods (``vireid.methods``) compose them into their objectives; a loss only one method uses
lives in that method's package. Nothing here knows a method.
"""

from vireid.losses.contrastive import clip_loss, similarity, supcon_both_ways, supcon_loss, supervised_contrastive_loss
from vireid.losses.identity import id_loss
from vireid.losses.triplet import pairwise_euclidean, wrt_loss

__all__ = [
    "clip_loss", "id_loss", "pairwise_euclidean", "similarity", "supcon_both_ways", "supcon_loss", "supervised_contrastive_loss",
    "wrt_loss",
]
