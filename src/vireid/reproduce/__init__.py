"""`vireid reproduce`: the EEES paper's tables (3: modules, 4: M sweep) or every registered
method, trained over seeds, evaluated with the dataset's full protocol, written next to the
published numbers. See :mod:`vireid.reproduce.runner` for the folder layout and caching."""

from vireid.reproduce.runner import ReproduceConfig, Reproducer, reproduce
from vireid.reproduce.tables import published, table_names, table_spec

__all__ = ["ReproduceConfig", "Reproducer", "published", "reproduce", "table_names", "table_spec"]
