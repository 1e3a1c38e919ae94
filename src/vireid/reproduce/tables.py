"""What `vireid reproduce` trains: the rows of the EEES paper's Table 3 and Table 4, or the
default variant of every registered method, and the published numbers next to them.

Published numbers are percent, from ../shared/papers/eees-paper.md (Tables 1-4) and
docs/reference.md section 8 (CSDN as cited by EEES; MUN as cited by a later paper). A row
without a published number for the dataset shows "-".
"""

from __future__ import annotations

from dataclasses import dataclass, field

from vireid.errors import ConfigError

TABLES = ("3", "4", "methods")


@dataclass(frozen=True)
class Row:
    """One table row: ``name`` (folder and label), the method/variant ``method`` and its overrides."""

    name: str
    method: str
    overrides: tuple[str, ...] = ()
    label: str = ""
    published_key: str = ""  # key into PUBLISHED[dataset][table]

    def preset(self, scale: str) -> str:
        return f"tiny-{self.method}" if scale == "tiny" else self.method


@dataclass(frozen=True)
class TableSpec:
    table: str
    title: str
    rows: tuple[Row, ...]
    source: str = ""
    extra: dict = field(default_factory=dict)


# SYSU-MM01 settings: all_single, all_multi, indoor_single, indoor_multi; RegDB: vis2ir, ir2vis.
PUBLISHED: dict[str, dict[str, dict[str, dict[str, dict[str, float]]]]] = {
    "sysu": {
        "3": {  # EEES Table 3 (SYSU all-search single-shot)
            "baseline": {"all_single": {"R1": 71.6, "mAP": 68.0}},
            "ise": {"all_single": {"R1": 74.1, "mAP": 71.8}},
            "ese": {"all_single": {"R1": 75.4, "mAP": 72.5}},
            "ese-cvsc": {"all_single": {"R1": 76.7, "mAP": 74.4}},
            "ese-cmsp": {"all_single": {"R1": 76.2, "mAP": 74.2}},
            "eees": {"all_single": {"R1": 78.2, "mAP": 75.7}},
        },
        "4": {  # EEES Table 4: all-search (indoor-search in the paper's parentheses)
            "m0": {"all_single": {"R1": 76.1, "mAP": 74.2}, "indoor_single": {"R1": 86.3, "mAP": 83.7},
                   "all_multi": {"R1": 81.8, "mAP": 67.5}, "indoor_multi": {"R1": 89.4, "mAP": 81.8}},
            "m1": {"all_single": {"R1": 78.2, "mAP": 75.7}, "indoor_single": {"R1": 86.5, "mAP": 88.6},
                   "all_multi": {"R1": 83.0, "mAP": 70.7}, "indoor_multi": {"R1": 90.8, "mAP": 84.3}},
            "m2": {"all_single": {"R1": 77.1, "mAP": 74.6}, "indoor_single": {"R1": 86.5, "mAP": 88.4},
                   "all_multi": {"R1": 82.8, "mAP": 70.0}, "indoor_multi": {"R1": 90.1, "mAP": 83.9}},
            "m3": {"all_single": {"R1": 77.5, "mAP": 74.9}, "indoor_single": {"R1": 86.3, "mAP": 88.5},
                   "all_multi": {"R1": 83.0, "mAP": 70.1}, "indoor_multi": {"R1": 90.3, "mAP": 84.1}},
        },
        "methods": {  # EEES Table 1; CSDN as cited there; MUN as cited by a later paper
            "eees": {"all_single": {"R1": 78.2, "mAP": 75.7}, "all_multi": {"R1": 83.0, "mAP": 70.7},
                     "indoor_single": {"R1": 86.5, "mAP": 88.6}, "indoor_multi": {"R1": 90.8, "mAP": 84.3}},
            "csdn": {"all_single": {"R1": 75.2, "mAP": 71.8}, "all_multi": {"R1": 80.6, "mAP": 66.3},
                     "indoor_single": {"R1": 82.0, "mAP": 85.0}, "indoor_multi": {"R1": 88.5, "mAP": 80.4}},
            "mun": {"all_single": {"R1": 76.24, "mAP": 73.81}},
        },
    },
    "regdb": {
        "methods": {  # EEES Table 2
            "eees": {"vis2ir": {"R1": 93.8, "mAP": 88.5}, "ir2vis": {"R1": 94.2, "mAP": 88.2}},
            "csdn": {"vis2ir": {"R1": 89.0, "mAP": 84.7}, "ir2vis": {"R1": 88.2, "mAP": 82.8}},
        },
    },
}

# The settings a table shows (all are in table<N>.json).
MAIN_SETTINGS = {"sysu": ("all_single",), "regdb": ("vis2ir", "ir2vis"), "llcm": ("ir2vis", "vis2ir"),
                 "custom": ("ir2vis", "vis2ir")}
# Suffix of a setting's re-ranked twin in the reproduced tables (``all_single_reranked``).
RERANKED = "_reranked"
METRICS = ("R1", "mAP")

TABLE3 = (("baseline", "Baseline (ID + WRT)"), ("ise", "ISE (learned prompts)"), ("ese", "ESE"),
          ("ese-cvsc", "ESE + CVSC"), ("ese-cmsp", "ESE + CMSP"), ("eees", "EEES (ESE + CVSC + CMSP)"))


def table_spec(table: str) -> TableSpec:
    """The rows of ``table`` ("3", "4" or "methods")."""
    if table == "3":
        rows = tuple(Row(name, name, label=label, published_key=name) for name, label in TABLE3)
        return TableSpec("3", "EEES Table 3: ablation of the modules", rows,
                         "EEES paper Table 3 (SYSU-MM01 all-search single-shot)")
    if table == "4":
        rows = tuple(Row(f"m{m}", "eees", (f"eees.m={m}",), label=f"EEES, M = {m}", published_key=f"m{m}")
                     for m in range(4))
        return TableSpec("4", "EEES Table 4: number of cross-view representations M", rows,
                         "EEES paper Table 4 (SYSU-MM01 single-shot all-search and indoor-search)")
    if table == "methods":
        from vireid.methods import list_methods, resolve

        rows = []
        for method in list_methods():
            variant = resolve(method.name).variant.name
            rows.append(Row(method.name, variant, label=f"{method.name} ({variant})", published_key=method.name))
        return TableSpec("methods", "Registered methods, default variant each", tuple(rows),
                         "EEES paper Tables 1-2; CSDN and MUN: docs/reference.md section 8")
    raise ConfigError(f"--table: one of {', '.join(TABLES)}, got {table!r}")


def published(dataset: str, table: str, row: Row) -> dict[str, dict[str, float]]:
    """Published percent numbers of ``row`` on ``dataset`` ({} where the paper has none)."""
    return PUBLISHED.get(dataset, {}).get(table, {}).get(row.published_key, {})
