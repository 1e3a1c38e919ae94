"""MUNConfig: which MUN components are on, their weights and the generator's size.

The defaults are the full method; the variants in ``vireid.methods.mun`` switch one
component off each. No loss weights are published (MUN is known from its abstract only):
``ial`` and ``mal`` are vireid's choices, ``wrt`` is the value the other methods use.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from vireid.errors import ConfigError


@dataclass
class MUNWeights:
    """Weights of the terms next to the ID loss (weight 1)."""

    wrt: float = 0.25  # weighted regularisation triplet, as in the baseline
    ial: float = 0.5  # identity alignment loss
    mal: float = 1.0  # modality alignment loss


@dataclass
class MUNConfig:
    """MUN switches (defaults: the full method).

    ``use_aux``: generate the auxiliary modality (cross- + intra-modality learners) and run it
    through the shared trunk as a third stream; ``use_ial``: identity alignment loss over the
    modalities present (three with ``use_aux``, else visible and infrared); ``use_mal``:
    modality alignment loss between visible and infrared. ``reduction``: channel reduction of
    the generator's dynamic gates (hidden width = stem channels // reduction).
    """

    use_wrt: bool = True
    use_aux: bool = True
    use_ial: bool = True
    use_mal: bool = True
    weights: MUNWeights = field(default_factory=MUNWeights)
    reduction: int = 4
    label_smoothing: float = 0.0

    def validate(self) -> None:
        if self.reduction < 1:
            raise ConfigError(f"mun.reduction: must be >= 1, got {self.reduction}")
        if not 0.0 <= self.label_smoothing < 1.0:
            raise ConfigError(f"mun.label_smoothing: must be in [0, 1), got {self.label_smoothing}")
        for name in ("wrt", "ial", "mal"):
            if getattr(self.weights, name) < 0:
                raise ConfigError(f"mun.weights.{name}: must be >= 0, got {getattr(self.weights, name)}")
