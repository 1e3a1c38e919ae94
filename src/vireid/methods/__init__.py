"""Methods of the field, one package each, behind one registry.

Every package in here that defines a method registers it on import (``@register_method``);
the registry imports them all the first time it is asked for a method
(:func:`vireid.methods.registry.discover`), so adding a method is adding a package
(docs/architecture.md). ``resolve(name)`` gives the method and variant a config's
``method = "..."`` selects.

The names below load lazily: ``vireid --help`` registers ``vireid methods`` without
importing torch (the method modules need it).
"""

from vireid.lazy import lazy_package

_EXPORTS = {
    **{name: "base" for name in ("LossResult", "Method", "Needs", "Objective", "Stage", "StageContext",
                                 "TrainBatch", "Variant", "term_grad_norms")},
    **{name: "registry" for name in ("Resolved", "get_method", "list_methods", "method_config",
                                     "method_names", "register_method", "resolve", "unregister_method")},
    **{name: "tables" for name in ("PaperTable", "Published", "TableRow")},
}
lazy_package(__name__, _EXPORTS)
