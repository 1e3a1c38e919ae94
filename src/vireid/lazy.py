"""Lazy package exports: a package's public names load their submodule on first use.

``vireid --help`` must answer without importing torch, open_clip or the synthetic renderer
(issue 27). A package ``__init__`` that imported every submodule eagerly made any
``from vireid.<pkg>.<light module> import X`` pay for all of them, because Python runs the
package ``__init__`` first. With :func:`lazy_package` the ``__init__`` only records where each
name lives; the submodule is imported by the first access (PEP 562 module ``__getattr__``).
"""

from __future__ import annotations

import importlib
import sys
import types
from collections.abc import Mapping


def lazy_package(package: str, exports: Mapping[str, str]) -> None:
    """Make ``package`` (its ``__name__``) export ``name`` from submodule ``exports[name]``
    (relative to the package) on first access. Call it from the package's ``__init__``."""
    exports = dict(exports)
    module = sys.modules[package]

    class _LazyPackage(types.ModuleType):
        def __getattr__(self, name: str) -> object:
            if name not in exports:
                raise AttributeError(f"module {package!r} has no attribute {name!r}")
            value = getattr(importlib.import_module(f"{package}.{exports[name]}"), name)
            types.ModuleType.__setattr__(self, name, value)
            return value

        def __setattr__(self, name: str, value: object) -> None:
            # The import system binds a freshly imported submodule on its package; where an
            # export shares the submodule's name (``synth.generate`` the function vs the
            # module) the export must win, as it did with the eager ``from .x import x``.
            if (name in exports and isinstance(value, types.ModuleType)
                    and value.__name__ == f"{package}.{name}"):
                return
            types.ModuleType.__setattr__(self, name, value)

        def __dir__(self) -> list[str]:
            return sorted(set(exports) | set(self.__dict__))

    module.__class__ = _LazyPackage
    module.__all__ = sorted(exports)
