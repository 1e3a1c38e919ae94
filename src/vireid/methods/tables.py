"""What a method publishes: the literature's numbers and its paper's tables (rows that
`vireid reproduce --table KEY` trains), declared in the method's package."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Published:
    """What the literature reports for a method (percent), with where it comes from.

    ``numbers``: dataset -> protocol setting (``all_single``, ``vis2ir``, ...) -> metric -> value.
    """

    source: str = ""
    numbers: dict[str, dict[str, dict[str, float]]] = field(default_factory=dict)


@dataclass(frozen=True)
class TableRow:
    """One row of a paper's table: ``name`` (folder and label), the variant ``method`` trains,
    its ``overrides`` and the row's published numbers (dataset -> setting -> metric)."""

    name: str
    method: str
    overrides: tuple[str, ...] = ()
    label: str = ""
    published: dict[str, dict[str, dict[str, float]]] = field(default_factory=dict)

    def preset(self, scale: str) -> str:
        return f"tiny-{self.method}" if scale == "tiny" else self.method


@dataclass(frozen=True)
class PaperTable:
    """A table of a method's paper that ``vireid reproduce --table <key>`` trains row by row;
    every other row is compared with the row named ``baseline`` ("" = no comparison)."""

    key: str
    title: str
    rows: tuple[TableRow, ...]
    source: str = ""
    baseline: str = ""
