"""The test-feature options a model embeds with, and where they come from.

A checkpoint is embedded the way ``vireid eval`` tests it: ``vireid eval``'s defaults
(feature ``concat`` = cat(L2(bn), L2(proj)), flip ``mean``, ``bicubic`` resizing) unless the
recipe the checkpoint was trained with fixes its own (a recipe's ``[eval]`` table, e.g. the
authors' recipe tests with ``bilinear`` resizing and ``concat`` flip). Searching features of
different options (or checkpoints) against each other is refused (:mod:`.features_file`).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from vireid.config import load_toml
from vireid.errors import ConfigError
from vireid.evaluation.options import FEATURE_KINDS, FLIP_MODES, INTERPOLATIONS

# The recipe files ship in vireid/configs as recipe-<name>.toml (vireid.training.config reads
# their training keys; inference may not import training, so it reads the [eval] table here).
_CONFIGS = Path(__file__).resolve().parent.parent / "configs"


@dataclass(frozen=True)
class FeatureOptions:
    """How an image becomes its test feature (see :mod:`vireid.evaluation.features`)."""

    feature: str = "concat"
    flip: str = "mean"
    interpolation: str = "bicubic"

    def __post_init__(self) -> None:
        for key, value, allowed in (("feature", self.feature, FEATURE_KINDS), ("flip", self.flip, FLIP_MODES),
                                    ("interpolation", self.interpolation, INTERPOLATIONS)):
            if value not in allowed:
                raise ConfigError(f"{key}: must be one of {', '.join(allowed)}, got {value!r}")

    def to_dict(self) -> dict[str, str]:
        return asdict(self)

    def override(self, **values: str | None) -> FeatureOptions:
        """These options with every non-None value of ``values`` replaced."""
        return replace(self, **{k: v for k, v in values.items() if v is not None})


def recipe_options(recipe: str | None) -> FeatureOptions:
    """The test-feature options of training recipe ``recipe`` (defaults when it has none)."""
    if not recipe:
        return FeatureOptions()
    path = _CONFIGS / f"recipe-{recipe}.toml"
    table: dict[str, Any] = load_toml(path).get("eval", {}) if path.is_file() else {}
    flip = table.get("flip", "mean")
    if isinstance(flip, bool):  # older recipes wrote flip = true / false
        flip = "mean" if flip else "none"
    return FeatureOptions(feature=table.get("feature", "concat"), flip=flip,
                          interpolation=table.get("interpolation", "bicubic"))
