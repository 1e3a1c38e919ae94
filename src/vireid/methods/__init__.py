"""Methods of the field, one module each, behind one registry.

Every module in this package that defines a method registers it on import
(``@register_method``); they are all imported here, so adding a method is adding a module.
``resolve(name)`` gives the method and variant a config's ``method = "..."`` selects.
"""

import importlib
import pkgutil

from vireid.methods.base import LossResult, Method, Needs, Objective, Stage, StageContext, TrainBatch, Variant
from vireid.methods.registry import (
    Resolved,
    get_method,
    list_methods,
    method_config,
    method_names,
    register_method,
    resolve,
    unregister_method,
)

_INFRASTRUCTURE = {"base", "registry", "cli", "prompt_fitting"}
for _info in pkgutil.iter_modules(__path__):
    if _info.name not in _INFRASTRUCTURE and not _info.name.startswith("_"):
        importlib.import_module(f"{__name__}.{_info.name}")

__all__ = [
    "LossResult", "Method", "Needs", "Objective", "Resolved", "Stage", "StageContext", "TrainBatch", "Variant",
    "get_method", "list_methods", "method_config", "method_names", "register_method", "resolve", "unregister_method",
]
