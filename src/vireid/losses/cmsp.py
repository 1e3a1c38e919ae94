"""Cross-Modality Semantics Purification, EEES Eq. 12."""

from __future__ import annotations

import torch


def cmsp_loss(f_v: torch.Tensor, f_r: torch.Tensor, t_v: torch.Tensor, t_r: torch.Tensor) -> torch.Tensor:
    """EEES Eq. 12 on the tensors as given (all [N, D], row i of each is the same identity).

    ``mean_i (||f_v_i - t_v_i|| - ||f_v_i - t_r_i||)^2 + mean_i (||f_r_i - t_r_i|| - ||f_r_i - t_v_i||)^2``:
    each image should be as far from the other modality's caption of its identity as from
    its own modality's caption. Distances are Euclidean, computed with a clamped square root
    so identical vectors give finite gradients.
    """
    shapes = {tuple(t.shape) for t in (f_v, f_r, t_v, t_r)}
    if len(shapes) != 1 or f_v.ndim != 2:
        raise ValueError(f"cmsp_loss: expected four [N, D] tensors of equal shape, got {sorted(shapes)}")

    def dist(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        # At least float32 so the eps clamp survives half precision (autocast) and the sqrt stays finite.
        return (a - b).to(torch.promote_types(a.dtype, torch.float32)).pow(2).sum(dim=1).clamp(min=1e-12).sqrt()

    visible = (dist(f_v, t_v) - dist(f_v, t_r)).pow(2).mean()
    infrared = (dist(f_r, t_r) - dist(f_r, t_v)).pow(2).mean()
    return visible + infrared
