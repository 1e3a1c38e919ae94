"""Methods of the field, one package each, behind one registry.

Every package in here that defines a method registers it on import (``@register_method``);
the registry imports them all the first time it is asked for a method
(:func:`vireid.methods.registry.discover`), so adding a method is adding a package
(docs/architecture.md). ``resolve(name)`` gives the method and variant a config's
``method = "..."`` selects.

The names below load lazily, and the method declarations (:mod:`.method`, each package's
``__init__``) import no torch: ``vireid --help`` and ``vireid methods`` answer without it;
the training contract (:mod:`.base`) and each method's training parts load when it trains.
"""

from vireid.lazy import lazy_package

_EXPORTS = {
    **{name: "base" for name in ("LossResult", "Objective", "Stage", "StageContext", "TrainBatch",
                                 "term_grad_norms")},
    **{name: "method" for name in ("Method", "Needs", "PRESET_SCALES", "Variant")},
    **{name: "registry" for name in ("Resolved", "get_method", "list_methods", "method_config",
                                     "method_names", "register_method", "resolve", "unregister_method")},
    **{name: "tables" for name in ("PaperTable", "Published", "TableRow")},
}
lazy_package(__name__, _EXPORTS)
