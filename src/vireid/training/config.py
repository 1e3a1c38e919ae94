"""TrainConfig: the typed, validated description of one training run, and preset loading.

Resolution order (later wins): dataclass defaults (the paper's SYSU-MM01 setting) <- the
preset's TOML files (``extends`` chain) <- a user TOML (``--config``) <- command-line flags and
``--set key=value`` overrides.

``method`` names a registered method or variant (``vireid methods``). The method's own
section is named after the method (``[eees]``, ``--set eees.m=2``): it starts from the
variant's settings and only the keys a file or override sets are changed on top, so
``--set method=ese`` switches the loss terms consistently.

Presets, one naming rule ``[tiny-]<variant>[-<dataset>]`` for every registered method and
variant (``vireid methods``): ``<variant>`` is the paper's scale (the dataclass defaults + the
method package's ``presets/paper.toml``), ``-<dataset>`` sets ``data.dataset`` for each
dataset the method claims (RegDB presets never fix a trial: give ``--trial``), and
``tiny-<variant>`` is the CPU scale (the shared ``vireid/configs/tiny.toml`` + the package's
``presets/tiny.toml``). ``tiny`` alone is the shared CPU base (a user file may ``extends =
["tiny"]``). Names of the previous release (``Method.renamed_presets``) still work with a one-line note.

Recipes: ``recipe = "<name>"`` (top-level key; ``--set recipe=authors``, ``vireid reproduce
--recipe``) merges ``vireid/configs/recipe-<name>.toml`` UNDER everything else: it replaces
the dataclass defaults on the points the recipe decides (augmentation, pixel statistics,
loss conventions, identity selection, schedule details), while the preset (e.g. tiny's image
size, epochs and learning rates), config files and overrides still win. A recipe file's
``[eval]`` table holds the test-feature options (``recipe_eval_options``), not a train key.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from vireid.config import SHARED_CONFIGS, apply_overrides, from_dict, load_toml, merge, recipe_path, to_dict
from vireid.datasets.registry import DATASETS
from vireid.errors import ConfigError
from vireid.evaluation.features import FeatureOptions
from vireid.training.augment import AugmentConfig
from vireid.training.data import DataConfig
from vireid.methods import Needs, list_methods, method_names, resolve
from vireid.models import ModelConfig
from vireid.pretraining.config import PretrainConfig
from vireid.training.optim import OptimConfig

PRESET_DIR = SHARED_CONFIGS  # the shared tiny base and the recipes
TINY = "tiny"
PAPER = "paper"
_NOTED: set[str] = set()  # renamed presets already noted in this process
RECIPE_PREFIX = "recipe-"
SELECTIONS = ("last", "val", "refit")


@dataclass
class SamplerConfig:
    batch_ids: int = 8  # P identities per batch
    per_modality: int = 4  # K visible + K infrared images per identity
    max_batches: int = 0  # cap on batches per epoch (0 = the epoch-length rule)

    def validate(self) -> None:
        if self.batch_ids < 2:
            raise ConfigError(f"sampler.batch_ids: at least 2 identities per batch, got {self.batch_ids}")
        if self.per_modality < 1:
            raise ConfigError(f"sampler.per_modality: must be >= 1, got {self.per_modality}")
        if self.max_batches < 0:
            raise ConfigError(f"sampler.max_batches: must be >= 0, got {self.max_batches}")


@dataclass
class RunConfig:
    seed: int = 0
    device: str = "auto"  # auto | cpu | cuda (under accelerate launch: each process its GPU)
    precision: Literal["auto", "bf16", "fp32"] = "auto"  # auto = bf16 on CUDA, fp32 on CPU
    channels_last: bool = True
    checkpoint_every: int = 10  # also keep checkpoints/epoch_N.pt every N epochs (0 = never)
    validate_every: int = 5  # epochs between validations on split=val (0 = never)
    val_feature: Literal["pooled", "bn", "proj", "concat"] = "concat"
    tensorboard: bool = True
    progress: bool = True
    # Identity policy (docs/methods/eees.md): "last" = train on every training identity and
    # keep the final epoch (the paper); "val" = hold out ids (data.val_ids) and keep best.pt;
    # "refit" = pick the epoch count on held-out ids, then retrain on all ids for that count
    # (the pipeline / reproduce layer runs the two trainings; a single run behaves as "val").
    selection: Literal["last", "val", "refit"] = "val"
    # Per-term gradient norm w.r.t. the projected image feature (grad/<term> in the logs),
    # measured every N-th step of an epoch (step 0 always); 0 = never. Every method reports
    # them (LossResult.weighted / probe); measuring does not change the training numbers.
    grad_norm_every: int = 50

    def validate(self) -> None:
        if self.checkpoint_every < 0 or self.validate_every < 0 or self.grad_norm_every < 0:
            raise ConfigError("run.checkpoint_every, run.validate_every and run.grad_norm_every must be >= 0")
        if self.selection not in SELECTIONS:
            raise ConfigError(f"run.selection: one of {', '.join(SELECTIONS)}, got {self.selection!r}")
        if self.device != "auto" and not (self.device == "cpu" or self.device.startswith("cuda")):
            raise ConfigError(f"run.device: auto, cpu or cuda, got {self.device!r}")


@dataclass
class TrainConfig:
    preset: str = ""
    recipe: str = ""  # "" = none (dataclass defaults), else configs/recipe-<name>.toml (see module doc)
    method: str = "eees"  # a registered method or variant (vireid methods)
    model: ModelConfig = field(default_factory=ModelConfig)
    data: DataConfig = field(default_factory=DataConfig)
    augment: AugmentConfig = field(default_factory=AugmentConfig)
    sampler: SamplerConfig = field(default_factory=SamplerConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)
    run: RunConfig = field(default_factory=RunConfig)
    # Which synthetic-web prior `model.pretrained = "synthetic-web"` loads (docs/pretrain.md).
    pretrain: PretrainConfig = field(default_factory=PretrainConfig)
    # The method's own typed section (its ``config_cls``), stored under the method's name.
    method_config: Any = None

    def validate(self) -> None:
        if self.data.dataset not in DATASETS:
            raise ConfigError(f"data.dataset: one of {', '.join(DATASETS)}, got {self.data.dataset!r}")
        if self.data.dataset == "regdb" and not self.data.index and not self.data.trial:
            raise ConfigError("data.trial: RegDB trains one model per trial; give --trial 1..10")
        resolved = resolve(self.method)
        if not isinstance(self.method_config, resolved.method.config_cls):
            raise ConfigError(f"{resolved.method.name}: expected a {resolved.method.config_cls.__name__} section")
        resolved.method.validate(self.method_config, self)

    @property
    def needs(self) -> Needs:
        """What the configured method reads besides images and labels (e.g. captions)."""
        return resolve(self.method).method.needs(self.method_config)

    @property
    def family(self) -> str:
        """The registered method the ``method`` name belongs to (``ese-cvsc`` -> ``eees``)."""
        return resolve(self.method).method.name


def config_dict(cfg: TrainConfig) -> dict[str, Any]:
    """``cfg`` as plain data, the method section under the method's name (what files hold)."""
    data = to_dict(cfg)
    data[cfg.family] = data.pop("method_config")
    return data


@dataclass(frozen=True)
class PresetName:
    """A preset name read by the rule ``[tiny-]<variant>[-<dataset>]``."""

    scale: str  # "paper" | "tiny"
    variant: str
    dataset: str = ""  # "" = the dataclass default (SYSU-MM01)


def parse_preset(name: str) -> PresetName | None:
    """``name`` read by the preset rule, or None when it names no registered variant."""
    scale, rest = (TINY, name.removeprefix(f"{TINY}-")) if name.startswith(f"{TINY}-") else (PAPER, name)
    variants = set(method_names())
    if rest in variants:
        return PresetName(scale, rest)
    if scale == PAPER and "-" in rest:
        variant, dataset = rest.rsplit("-", 1)
        if variant in variants and dataset in resolve(variant).method.datasets:
            return PresetName(scale, variant, dataset)
    return None


def preset_names() -> list[str]:
    """Every preset: ``tiny``, and per variant ``<variant>``, ``tiny-<variant>`` and
    ``<variant>-<dataset>`` for each dataset its method claims."""
    names = {TINY}
    for variant in method_names():
        names |= {variant, f"{TINY}-{variant}"}
        names |= {f"{variant}-{dataset}" for dataset in resolve(variant).method.datasets}
    return sorted(names)


def renamed_presets() -> dict[str, str]:
    """Preset names of the previous release -> today's, from every method (``Method.renamed_presets``)."""
    return {old: new for method in list_methods() for old, new in method.renamed_presets.items()}


def _renamed(name: str) -> str:
    new = renamed_presets().get(name)
    if new is None:
        return name
    if name not in _NOTED:
        _NOTED.add(name)
        parsed = parse_preset(new)
        trial = " (RegDB presets fix no trial: give --trial 1..10)" if parsed and parsed.dataset == "regdb" else ""
        print(f"note: preset {name!r} is now {new!r}; the old name goes in the next release{trial}",
              file=sys.stderr)
    return new


def _load_file(path: Path, seen: tuple[str, ...]) -> dict[str, Any]:
    raw = load_toml(path)
    parents = raw.pop("extends", [])
    if isinstance(parents, str):
        parents = [parents]
    if not isinstance(parents, list) or not all(isinstance(p, str) for p in parents):
        raise ConfigError(f"{path}: extends must be a preset name or a list of names")
    out: dict[str, Any] = {}
    for parent in parents:
        out = merge(out, load_preset_dict(parent, seen))
    return merge(out, raw)


def recipe_names() -> list[str]:
    """The recipes shipped as ``configs/recipe-<name>.toml``."""
    return sorted(p.stem.removeprefix(RECIPE_PREFIX) for p in PRESET_DIR.glob(f"{RECIPE_PREFIX}*.toml"))


def _recipe_file(name: str) -> Path:
    path = recipe_path(name)
    if not path.is_file():
        raise ConfigError(f"recipe: unknown {name!r} (known: {', '.join(recipe_names())})")
    return path


def load_recipe_dict(name: str) -> dict[str, Any]:
    """A recipe's training keys (its ``[eval]`` table left out)."""
    raw = load_toml(_recipe_file(name))
    raw.pop("eval", None)
    raw.pop("recipe", None)
    return raw


def recipe_eval_options(name: str) -> FeatureOptions:
    """A recipe's test-feature options (its ``[eval]`` table, typed and validated: an unknown
    key or value is a ConfigError naming the file); the defaults for no recipe."""
    if not name:
        return FeatureOptions()
    path = _recipe_file(name)
    return FeatureOptions.from_mapping(load_toml(path).get("eval", {}), where=f"{path.name} [eval]")


def load_preset_dict(name: str, seen: tuple[str, ...] = ()) -> dict[str, Any]:
    """The merged TOML data of preset ``name`` (see the module docstring for the rule)."""
    if name in seen:
        raise ConfigError(f"preset {name}: circular extends ({' -> '.join(seen + (name,))})")
    if name == TINY:
        return _load_file(PRESET_DIR / f"{TINY}.toml", seen + (name,))
    parsed = parse_preset(_renamed(name))
    if parsed is None:
        raise ConfigError(f"unknown preset {name!r}: presets are [tiny-]<variant>[-<dataset>], variants "
                          f"{', '.join(method_names())} (`vireid train --list-presets` lists them all)")
    method = resolve(parsed.variant).method
    data = load_preset_dict(TINY, seen + (name,)) if parsed.scale == TINY else {}
    data = merge(data, method.preset_overlay(parsed.scale))
    if parsed.dataset:
        data = merge(data, {"data": {"dataset": parsed.dataset}})
    return merge(data, {"method": parsed.variant})


def resolve_config(preset: str | None = None, config_file: str | Path | None = None,
                   overrides: list[str] | tuple[str, ...] = (),
                   values: dict[str, Any] | None = None) -> TrainConfig:
    """Build the run's TrainConfig: preset <- config file <- ``values`` <- ``--set`` overrides."""
    data: dict[str, Any] = {}
    if preset:
        data = merge(data, load_preset_dict(preset))
        data["preset"] = _renamed(preset)
    if config_file:
        data = merge(data, _load_file(Path(config_file), ()))
    if values:
        data = merge(data, values)
    data = apply_overrides(data, overrides)
    recipe = data.get("recipe") or ""
    if not isinstance(recipe, str):
        raise ConfigError(f"recipe: expected a recipe name, got {recipe!r}")
    if recipe:
        data = merge(load_recipe_dict(recipe), data)  # under everything else: see module doc
    name = data.get("method", TrainConfig.method)
    if not isinstance(name, str):
        raise ConfigError(f"method: expected a method name, got {name!r}")
    resolved = resolve(name)
    family = resolved.method.name
    section = data.pop(family, {})
    if not isinstance(section, dict):
        raise ConfigError(f"{family}: expected a table, got {section!r}")
    if "method_config" in data:
        raise ConfigError(f"unknown config key method_config (the method's settings go under [{family}])")
    method_config = from_dict(resolved.method.config_cls, merge(resolved.variant.config, section),
                              prefix=f"{family}.")
    cfg = from_dict(TrainConfig, {**data, "method_config": method_config})
    if cfg.data.index:
        from vireid.manifests import read_manifest
        from vireid.training.data import settle_index_identity

        given = data.get("data") if isinstance(data.get("data"), dict) else {}
        settle_index_identity(cfg.data, read_manifest(cfg.data.index, "image-index"),
                              dataset_given="dataset" in given, trial_given="trial" in given)
    if cfg.run.selection == "last" and cfg.data.val_ids is None and not cfg.data.index:
        cfg.data.val_ids = 0  # train on every training identity (an index file decides itself)
    return cfg
