"""The method registry: ``@register_method`` on a :class:`~vireid.methods.method.Method` class
makes it and its variants available by name to the trainer, ``vireid methods`` and
``vireid reproduce``. Names are unique across methods and variants.

Registering imports only the method packages' declarations (no torch): their training parts
load when a hook builds them."""

from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass

from vireid.errors import ConfigError
from vireid.methods.method import Method, Variant

_METHODS: dict[str, Method] = {}
_NAMES: dict[str, tuple[str, str]] = {}  # method or variant name -> (method, variant)
_discovered = False


def discover() -> None:
    """Import every method package of ``vireid.methods`` once (each registers itself); its
    modules (``base``, ``registry``, ...) are the infrastructure, not methods."""
    global _discovered
    if _discovered:
        return
    _discovered = True
    import vireid.methods as package

    for info in pkgutil.iter_modules(package.__path__):
        if info.ispkg and not info.name.startswith("_"):
            importlib.import_module(f"{package.__name__}.{info.name}")


@dataclass(frozen=True)
class Resolved:
    method: Method
    variant: Variant


def _default_variant(method: Method) -> Variant:
    if not method.variants:
        return Variant(method.name, method.summary)
    wanted = method.default_variant or method.name
    return next((v for v in method.variants if v.name == wanted), method.variants[0])


def register_method(cls: type[Method]) -> type[Method]:
    """Class decorator: register a method and its variants (an instance is created once)."""
    discover()  # the built-in methods first, so a name clash is reported against them
    if not cls.name:
        raise TypeError(f"{cls.__name__}: a method needs a name")
    method = cls()
    names = {cls.name} | {v.name for v in cls.variants}
    for name in names:
        owner = _NAMES.get(name, (cls.name, ""))[0]
        if owner != cls.name:
            raise ValueError(f"method name {name!r} is already taken by method {owner!r}")
    _METHODS[cls.name] = method
    for name in names:
        _NAMES[name] = (cls.name, name if any(v.name == name for v in cls.variants) else "")
    return cls


def unregister_method(name: str) -> None:
    """Remove a method and its variants (tests that register toy methods clean up with it)."""
    _METHODS.pop(name, None)
    for key in [k for k, (m, _) in _NAMES.items() if m == name]:
        del _NAMES[key]


def resolve(name: str) -> Resolved:
    """The method and variant a name selects (a method's own name = its default variant)."""
    discover()
    if name not in _NAMES:
        raise ConfigError(f"method: unknown {name!r} (known: {', '.join(method_names())}; "
                          f"see `vireid methods`)")
    family, variant_name = _NAMES[name]
    method = _METHODS[family]
    variant = next((v for v in method.variants if v.name == variant_name), None) or _default_variant(method)
    return Resolved(method, variant)


def get_method(name: str) -> Method:
    return resolve(name).method


def list_methods() -> list[Method]:
    discover()
    return [_METHODS[k] for k in sorted(_METHODS)]


def method_names() -> list[str]:
    """Every selectable name: methods and their variants."""
    discover()
    return sorted(_NAMES)


def method_config(name: str, overrides: dict | None = None):
    """The typed config section a method or variant name selects (+ ``overrides``)."""
    from vireid.config import from_dict, merge

    resolved = resolve(name)
    return from_dict(resolved.method.config_cls, merge(resolved.variant.config, overrides or {}),
                     prefix=f"{resolved.method.name}.")
