"""Comparing runs: seed statistics, the 2x combined-std mark, the config diff."""

import json
import math
from html.parser import HTMLParser

import pytest

from vireid.report.compare import (Stat, comparison_sections, config_diff, exceeds_noise, group_rows,
                                   seed_stat)
from vireid.report.inputs import ReportError, load_run


def test_seed_stat_is_mean_and_sample_std_over_per_seed_means():
    stat = seed_stat({0: [0.5, 0.7], 1: [0.8]})     # seed 0 has two RegDB trials -> 60%
    assert stat.mean == pytest.approx(70.0) and stat.std == pytest.approx(math.sqrt(200)) and stat.seeds == 2
    assert seed_stat({3: [0.25]}) == Stat(25.0, 0.0, 1)


def test_a_difference_is_marked_only_beyond_twice_the_combined_seed_std():
    ref, row = Stat(50.0, 3.0, 3), Stat(60.0, 4.0, 3)    # combined std 5
    assert exceeds_noise(10.1, row, ref) and not exceeds_noise(9.9, row, ref)
    assert not exceeds_noise(-30.0, Stat(20.0, 0.0, 1), ref)   # one seed: no std to judge by


def _shift(path, delta, seed_config=None):
    record_path = path / "results" / "results.json"
    record = json.loads(record_path.read_text())
    for entry in record["results"]["settings"].values():
        entry["mean"] = {k: v + delta for k, v in entry["mean"].items()}
    record_path.write_text(json.dumps(record))
    if seed_config is not None:
        config = json.loads((path / "config.json").read_text())
        config["config"]["optim"]["lr"] = seed_config
        (path / "config.json").write_text(json.dumps(config))


class _Marks(HTMLParser):
    def __init__(self):
        super().__init__()
        self.marked, self._in = [], False

    def handle_starttag(self, tag, attrs):
        self._in = tag == "td" and ("class", "mark") in attrs

    def handle_data(self, data):
        if self._in:
            self.marked.append(data)
            self._in = False


def test_comparison_marks_rows_beyond_seed_noise_and_lists_differing_config_keys(run_copy):
    paths = {name: run_copy(name) for name in ("ref-seed0", "ref-seed1", "better-seed0", "better-seed1")}
    _shift(paths["ref-seed1"], 0.01)
    _shift(paths["better-seed0"], 0.20, seed_config=0.5)
    _shift(paths["better-seed1"], 0.21, seed_config=0.5)
    runs = [load_run(p) for p in paths.values()]
    assert list(group_rows(runs)) == ["ref", "better"]
    [(anchor, _, body)] = comparison_sections(runs, "ref", [])
    marks = _Marks()
    marks.feed(body)
    # R1 / mAP / mINP of "better" are ~20 points up with seed stds < 1 point: marked in every setting.
    assert marks.marked and all(m.startswith("+19.") or m.startswith("+20.") for m in marks.marked)
    assert len(marks.marked) == 3 * 4
    names, rows = config_diff(runs)
    assert names == list(paths) and [r[0] for r in rows] == ["optim.lr"]


def test_an_unknown_reference_is_an_error_listing_the_rows(run_copy):
    runs = [load_run(run_copy("a-seed0")), load_run(run_copy("b-seed0"))]
    with pytest.raises(ReportError, match=r"--reference 'c'.*rows: a, b"):
        comparison_sections(runs, "c", [])
