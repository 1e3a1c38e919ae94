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

from vireid.config import load_toml, recipe_path
from vireid.evaluation.features import FeatureOptions

__all__ = ["FeatureOptions", "recipe_options"]


def recipe_options(recipe: str | None) -> FeatureOptions:
    """The test-feature options of training recipe ``recipe`` (defaults when it has none)."""
    if not recipe:
        return FeatureOptions()
    path = recipe_path(recipe)
    if not path.is_file():  # a recipe this version does not ship: the evaluation defaults
        return FeatureOptions()
    return FeatureOptions.from_mapping(load_toml(path).get("eval", {}), where=f"{path.name} [eval]")
