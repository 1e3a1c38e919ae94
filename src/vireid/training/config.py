"""TrainConfig: the typed, validated description of one training run, and preset loading.

Resolution order (later wins): dataclass defaults (the paper's SYSU-MM01 setting) <- the
preset's TOML files (``extends`` chain) <- a user TOML (``--config``) <- command-line flags and
``--set key=value`` overrides. The ``loss`` section starts from the Table 3 row named by
``method`` (``vireid.training.losses.loss_preset``) and only the keys a file or override sets
are changed on top, so ``--set method=ese`` switches the loss terms consistently.

Presets live in ``vireid/configs/<name>.toml`` (package data). A preset may say
``extends = ["tiny", "eees"]``: those presets are merged first, in order.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from vireid.config import apply_overrides, from_dict, load_toml, merge, to_dict
from vireid.errors import ConfigError
from vireid.training.augment import AugmentConfig
from vireid.training.data import DataConfig
from vireid.training.losses import LossConfig, loss_preset
from vireid.training.model import ModelConfig
from vireid.training.optim import OptimConfig

PRESET_DIR = Path(__file__).resolve().parent.parent / "configs"
METHODS = ("baseline", "ise", "ese", "ese+cvsc", "ese+cmsp", "eees")
DATASETS = ("sysu", "regdb", "llcm")


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
class PromptStageConfig:
    """ISE stage 1 (CLIP-ReID style): learn identity prompt contexts with both encoders frozen."""

    epochs: int = 60
    n_ctx: int = 4  # learnable tokens per identity ("A photo of a X X X X person.")
    lr: float = 3.5e-4
    weight_decay: float = 1e-4
    batch_size: int = 64
    warmup_epochs: int = 5

    def validate(self) -> None:
        if self.epochs < 1 or self.batch_size < 2 or self.n_ctx < 1:
            raise ConfigError("prompt.epochs and prompt.n_ctx must be >= 1, prompt.batch_size >= 2")


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

    def validate(self) -> None:
        if self.checkpoint_every < 0 or self.validate_every < 0:
            raise ConfigError("run.checkpoint_every and run.validate_every must be >= 0")
        if self.device != "auto" and not (self.device == "cpu" or self.device.startswith("cuda")):
            raise ConfigError(f"run.device: auto, cpu or cuda, got {self.device!r}")


@dataclass
class TrainConfig:
    preset: str = ""
    method: Literal["baseline", "ise", "ese", "ese+cvsc", "ese+cmsp", "eees"] = "eees"
    model: ModelConfig = field(default_factory=ModelConfig)
    loss: LossConfig = field(default_factory=LossConfig)
    data: DataConfig = field(default_factory=DataConfig)
    augment: AugmentConfig = field(default_factory=AugmentConfig)
    sampler: SamplerConfig = field(default_factory=SamplerConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)
    prompt: PromptStageConfig = field(default_factory=PromptStageConfig)
    run: RunConfig = field(default_factory=RunConfig)

    def validate(self) -> None:
        if self.data.dataset not in DATASETS:
            raise ConfigError(f"data.dataset: one of {', '.join(DATASETS)}, got {self.data.dataset!r}")
        if self.data.dataset == "regdb" and not self.data.index and not self.data.trial:
            raise ConfigError("data.trial: RegDB trains one model per trial; give --trial 1..10")
        if self.loss.use_cvsc and self.sampler.per_modality < self.loss.m + 1:
            raise ConfigError(
                f"sampler.per_modality: CVSC fuses every image with loss.m={self.loss.m} others of "
                f"its identity and modality, so batches need at least {self.loss.m + 1} per "
                f"identity, got {self.sampler.per_modality}")
        if self.loss.use_ise != (self.method == "ise"):
            raise ConfigError(f"loss.use_ise: the {self.method} method "
                              f"{'needs' if self.method == 'ise' else 'does not use'} learned prompts")

    @property
    def uses_captions(self) -> bool:
        return self.loss.needs_captions


def preset_names() -> list[str]:
    return sorted(p.stem for p in PRESET_DIR.glob("*.toml"))


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


def load_preset_dict(name: str, seen: tuple[str, ...] = ()) -> dict[str, Any]:
    """The merged TOML data of preset ``name`` (its ``extends`` chain resolved)."""
    if name in seen:
        raise ConfigError(f"preset {name}: circular extends ({' -> '.join(seen + (name,))})")
    path = PRESET_DIR / f"{name}.toml"
    if not path.is_file():
        raise ConfigError(f"unknown preset {name!r} (known: {', '.join(preset_names())})")
    return _load_file(path, seen + (name,))


def resolve_config(preset: str | None = None, config_file: str | Path | None = None,
                   overrides: list[str] | tuple[str, ...] = (),
                   values: dict[str, Any] | None = None) -> TrainConfig:
    """Build the run's TrainConfig: preset <- config file <- ``values`` <- ``--set`` overrides."""
    data: dict[str, Any] = {}
    if preset:
        data = merge(data, load_preset_dict(preset))
        data["preset"] = preset
    if config_file:
        data = merge(data, _load_file(Path(config_file), ()))
    if values:
        data = merge(data, values)
    data = apply_overrides(data, overrides)
    method = data.get("method", TrainConfig.method)
    if method not in METHODS:
        raise ConfigError(f"method: must be one of {', '.join(map(repr, METHODS))}, got {method!r}")
    loss = data.get("loss", {})
    if not isinstance(loss, dict):
        raise ConfigError(f"loss: expected a table, got {loss!r}")
    data["loss"] = merge(to_dict(loss_preset(method)), loss)
    return from_dict(TrainConfig, data)
