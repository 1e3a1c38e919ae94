"""What `vireid reproduce` trains: a table of a registered method's paper (``Method.tables``,
e.g. EEES's Table 3 and 4), or ``methods``: the default variant of every registered method.
Published numbers (percent) come from the method packages with their source
(``Method.published``, ``TableRow.published``); a row without one for the dataset shows "-".
"""

from __future__ import annotations

from vireid.errors import ConfigError
from vireid.methods.tables import PaperTable, TableRow

METHODS_TABLE = "methods"

# The settings a table shows (all are in table<N>.json).
MAIN_SETTINGS = {"sysu": ("all_single",), "regdb": ("vis2ir", "ir2vis"), "llcm": ("ir2vis", "vis2ir"),
                 "custom": ("ir2vis", "vis2ir")}
# Suffix of a setting's re-ranked twin in the reproduced tables (``all_single_reranked``).
RERANKED = "_reranked"
METRICS = ("R1", "mAP")


def paper_tables() -> dict[str, PaperTable]:
    """Every registered method's paper tables by key (keys are unique across methods)."""
    from vireid.methods import list_methods  # imported here: the method modules need torch

    tables: dict[str, PaperTable] = {}
    for method in list_methods():
        for table in method.tables:
            if table.key in tables or table.key == METHODS_TABLE:
                raise ConfigError(f"reproduce: table {table.key!r} of method {method.name!r} is defined twice")
            tables[table.key] = table
    return tables


def table_names() -> tuple[str, ...]:
    return (*paper_tables(), METHODS_TABLE)


# The image-only network every method adds to (ID + WRT on the two-stem CLIP): the methods
# table's first row and the row the others are compared with.
BASELINE_VARIANT = "baseline"


def methods_table() -> PaperTable:
    """The image-only baseline, then the default variant of every registered method, with the
    literature's numbers for each."""
    from vireid.methods import list_methods, resolve

    baseline = next((row for table in paper_tables().values() for row in table.rows
                     if row.method == BASELINE_VARIANT and not row.overrides), None)
    rows = []
    if baseline is not None:
        rows.append(TableRow(BASELINE_VARIANT, BASELINE_VARIANT, label="baseline (ID + WRT, image only)",
                             published=baseline.published))
    sources = []
    for method in list_methods():
        variant = resolve(method.name).variant.name
        rows.append(TableRow(method.name, variant, label=f"{method.name} ({variant})",
                             published=method.published.numbers))
        if method.published.source:
            sources.append(f"{method.name}: {method.published.source}")
    return PaperTable(METHODS_TABLE, "Registered methods, default variant each", tuple(rows), "; ".join(sources),
                      baseline=BASELINE_VARIANT if baseline is not None else "")


def table_spec(table: str) -> PaperTable:
    """The rows of ``table`` (a paper table's key, or "methods")."""
    if table == METHODS_TABLE:
        return methods_table()
    tables = paper_tables()
    if table not in tables:
        raise ConfigError(f"--table: one of {', '.join(table_names())}, got {table!r}")
    return tables[table]


def published(dataset: str, row: TableRow) -> dict[str, dict[str, float]]:
    """Published percent numbers of ``row`` on ``dataset`` ({} where the literature has none)."""
    return row.published.get(dataset, {})
