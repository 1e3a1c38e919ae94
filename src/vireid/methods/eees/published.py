"""What the EEES paper (Dong et al.) reports, percent, from ../shared/papers/eees-paper.md:
Tables 1-2 (the method against the field), Table 3 (ablation rows = this package's variants)
and Table 4 (the number M of cross-view representations)."""

from __future__ import annotations

from vireid.methods.tables import PaperTable, Published, TableRow

EEES_NUMBERS = {
    "sysu": {"all_single": {"R1": 78.2, "mAP": 75.7}, "all_multi": {"R1": 83.0, "mAP": 70.7},
             "indoor_single": {"R1": 86.5, "mAP": 88.6}, "indoor_multi": {"R1": 90.8, "mAP": 84.3}},
    "regdb": {"vis2ir": {"R1": 93.8, "mAP": 88.5}, "ir2vis": {"R1": 94.2, "mAP": 88.2}},
}
PUBLISHED = Published("EEES paper Table 1 (SYSU-MM01) and Table 2 (RegDB)", EEES_NUMBERS)

# Table 3 (SYSU all-search single-shot): row label, variant, (R1, mAP).
_TABLE3 = (("Baseline (ID + WRT)", "baseline", (71.6, 68.0)), ("ISE (learned prompts)", "ise", (74.1, 71.8)),
           ("ESE", "ese", (75.4, 72.5)), ("ESE + CVSC", "ese-cvsc", (76.7, 74.4)),
           ("ESE + CMSP", "ese-cmsp", (76.2, 74.2)), ("EEES (ESE + CVSC + CMSP)", "eees", (78.2, 75.7)))

# Table 4: M -> all-search single, indoor single, all-search multi, indoor multi (R1, mAP).
_TABLE4 = {
    0: ((76.1, 74.2), (86.3, 83.7), (81.8, 67.5), (89.4, 81.8)),
    1: ((78.2, 75.7), (86.5, 88.6), (83.0, 70.7), (90.8, 84.3)),
    2: ((77.1, 74.6), (86.5, 88.4), (82.8, 70.0), (90.1, 83.9)),
    3: ((77.5, 74.9), (86.3, 88.5), (83.0, 70.1), (90.3, 84.1)),
}
_TABLE4_SETTINGS = ("all_single", "indoor_single", "all_multi", "indoor_multi")


def _r1_map(pair: tuple[float, float]) -> dict[str, float]:
    return {"R1": pair[0], "mAP": pair[1]}


TABLES = (
    PaperTable("3", "EEES Table 3: ablation of the modules",
               tuple(TableRow(variant, variant, label=label, published={"sysu": {"all_single": _r1_map(numbers)}})
                     for label, variant, numbers in _TABLE3),
               "EEES paper Table 3 (SYSU-MM01 all-search single-shot)", baseline="baseline"),
    PaperTable("4", "EEES Table 4: number of cross-view representations M",
               tuple(TableRow(f"m{m}", "eees", (f"eees.m={m}",), label=f"EEES, M = {m}",
                              published={"sysu": {s: _r1_map(v) for s, v in zip(_TABLE4_SETTINGS, values)}})
                     for m, values in _TABLE4.items()),
               "EEES paper Table 4 (SYSU-MM01 single-shot all-search and indoor-search)", baseline="m0"),
)
