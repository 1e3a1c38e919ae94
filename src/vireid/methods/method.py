"""What a method declares: its name, paper, variants, presets, published numbers and hooks.

A method package subclasses :class:`Method` and registers it (``@register_method``). This
module and every method package's ``__init__`` import no torch, numpy, pyarrow or PIL:
``vireid methods`` lists every method, variant, preset, table and published number from the
declarations alone, in well under a second. The hooks that train (``build_model``,
``stages``, ``objective``) import the method's network parts, losses and objective in their
bodies, so those load when a method is resolved for training. The training side of the
contract (:class:`~vireid.methods.base.Objective`, ``Stage``, ``TrainBatch``, ``LossResult``)
lives in :mod:`vireid.methods.base`.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from vireid.config import load_toml
from vireid.datasets.names import DATASET_NAMES
from vireid.methods.tables import PaperTable, Published

if TYPE_CHECKING:
    from torch import nn

    from vireid.methods.base import Objective, Stage
    from vireid.models.config import ModelConfig


@dataclass(frozen=True)
class Needs:
    """Inputs a configured method reads besides images and identity labels.

    ``captions``: the modalities whose per-image captions it trains on (``()`` = none).
    """

    captions: tuple[str, ...] = ()


@dataclass(frozen=True)
class Variant:
    """A named preset of a method: ``config`` is merged over the method's config defaults."""

    name: str
    summary: str
    config: dict[str, Any] = field(default_factory=dict)


PRESET_SCALES = ("paper", "tiny")  # <package>/presets/<scale>.toml: settings of every variant at that scale


class Method:
    """Base class of a registered method.

    It declares its typed config section, what inputs it needs, how its network is built from
    ``vireid.models`` parts, optional preparatory stages (e.g. prompt learning) and its
    training objective, an ``nn.Module`` that maps one ``TrainBatch`` to a ``LossResult``.
    Named variants (e.g. the ablation rows of a paper's table) are presets of its config.
    The trainer calls these hooks and knows no method by name.
    """

    name: ClassVar[str] = ""
    paper: ClassVar[str] = ""  # citation of the paper it comes from
    summary: ClassVar[str] = ""  # one line for ``vireid methods``
    config_cls: ClassVar[type] = object  # dataclass of the method's config section (torch-free)
    variants: ClassVar[tuple[Variant, ...]] = ()
    default_variant: ClassVar[str] = ""  # "" = the variant named like the method, else the first
    datasets: ClassVar[tuple[str, ...]] = DATASET_NAMES  # datasets it has <variant>-<dataset> presets for
    docs: ClassVar[str] = ""  # its documentation page, relative to the repository root
    published: ClassVar[Published] = Published()  # the literature's numbers of its default variant
    tables: ClassVar[tuple[PaperTable, ...]] = ()  # its paper's tables that `vireid reproduce` trains
    # Preset names of the previous release -> today's (kept one release, with a one-line note).
    renamed_presets: ClassVar[dict[str, str]] = {}

    @classmethod
    def preset_dir(cls) -> Path:
        """``presets/`` beside the module that defines the method (package data)."""
        return Path(inspect.getfile(cls)).resolve().parent / "presets"

    def preset_overlay(self, scale: str) -> dict[str, Any]:
        """The method's settings for every variant at ``scale`` (``presets/<scale>.toml``; {} if none)."""
        path = self.preset_dir() / f"{scale}.toml"
        return load_toml(path) if path.is_file() else {}

    def needs(self, cfg: Any) -> Needs:
        return Needs()

    def build_model(self, model_cfg: ModelConfig, num_classes: int, cfg: Any) -> nn.Module:
        from vireid.models.registry import build_model

        return build_model(model_cfg, num_classes)

    def stages(self, cfg: Any) -> list[Stage]:
        return []

    def objective(self, cfg: Any, model: nn.Module, stage_outputs: dict[str, dict[str, Any]]) -> Objective:
        raise NotImplementedError

    def validate(self, cfg: Any, train_cfg: Any) -> None:
        """Cross-section rules (e.g. sampler sizes the objective needs); raise ConfigError."""
