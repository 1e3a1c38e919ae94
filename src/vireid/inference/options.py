"""The test-feature options a model embeds with, and where they come from.

A checkpoint is embedded the way ``vireid eval`` tests it: ``vireid eval``'s defaults
(feature ``concat`` = cat(L2(bn), L2(proj)), flip ``mean``, ``bicubic`` resizing, the
checkpoint's own pixel statistics) unless the recipe the checkpoint was trained with fixes its
own (a recipe's ``[eval]`` table, e.g. the authors' recipe tests with ``bilinear`` resizing and
``concat`` flip). The options are evaluation's one typed
:class:`~vireid.evaluation.features.FeatureOptions`. Searching features of different options
(or checkpoints) against each other is refused (:mod:`.features_file`).
"""

from __future__ import annotations

from pathlib import Path

from vireid.config import load_toml
from vireid.evaluation.features import FeatureOptions

__all__ = ["FeatureOptions", "recipe_options"]

# The recipe files ship in vireid/configs as recipe-<name>.toml (vireid.training.config reads
# their training keys; inference may not import training, so it reads the [eval] table here).
_CONFIGS = Path(__file__).resolve().parent.parent / "configs"


def recipe_options(recipe: str | None) -> FeatureOptions:
    """The test-feature options of training recipe ``recipe`` (defaults when it has none)."""
    path = _CONFIGS / f"recipe-{recipe}.toml"
    if not recipe or not path.is_file():
        return FeatureOptions()
    return FeatureOptions.from_mapping(load_toml(path).get("eval", {}), where=f"{path.name} [eval]")
