"""Registry of ReID network architectures: name -> class, the one way a model is built.

A checkpoint stores ``model_config.architecture``; :func:`build_model` rebuilds that class, so
evaluation never has to know which method trained a network. An architecture is a class
with ``from_config(cfg: ModelConfig, num_classes) -> nn.Module`` that satisfies
:class:`vireid.models.protocol.ReIDNetwork`; register it with ``@register_architecture(name)``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from torch import nn

from vireid.errors import ConfigError, VireidError
from vireid.models.config import ModelConfig

_ARCHITECTURES: dict[str, type[nn.Module]] = {}
T = TypeVar("T", bound=type)


def register_architecture(name: str) -> Callable[[T], T]:
    """Class decorator: make ``name`` buildable by :func:`build_model`."""

    def add(cls: T) -> T:
        if name in _ARCHITECTURES and _ARCHITECTURES[name] is not cls:
            raise ValueError(f"architecture {name!r} is already registered ({_ARCHITECTURES[name].__name__})")
        if not callable(getattr(cls, "from_config", None)):
            raise TypeError(f"architecture {name!r}: {cls.__name__} needs a from_config(cfg, num_classes) classmethod")
        _ARCHITECTURES[name] = cls
        return cls

    return add


def list_architectures() -> list[str]:
    return sorted(_ARCHITECTURES)


def build_model(cfg: ModelConfig, num_classes: int) -> nn.Module:
    """The one factory: the registered ``cfg.architecture`` built for ``num_classes`` identities."""
    cfg.validate()
    if isinstance(num_classes, bool) or not isinstance(num_classes, int) or num_classes < 1:
        raise VireidError(f"build_model: num_classes must be a positive integer, got {num_classes!r}")
    if cfg.architecture not in _ARCHITECTURES:
        raise ConfigError(f"model.architecture: unknown {cfg.architecture!r} "
                          f"(known: {', '.join(list_architectures())})")
    return _ARCHITECTURES[cfg.architecture].from_config(cfg, num_classes)
