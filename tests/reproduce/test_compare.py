"""Differences to the baseline are marked only when the seeds resolve them."""

import math

import pytest

from vireid.reproduce.compare import compare, seeds_to_resolve
from vireid.reproduce.runner import MEASURED_TINY_R1_STD, PAPER_SMALLEST_DIFF_R1, TINY_SEEDS, default_seeds


def _stat(values):
    mean = sum(values) / len(values)
    std = math.sqrt(sum((v - mean) ** 2 for v in values) / (len(values) - 1)) if len(values) > 1 else 0.0
    return {"mean": mean, "std": std, "per_seed": values}


def test_the_combined_std_is_the_standard_error_of_the_difference_of_means():
    row, base = _stat([14.0, 16.0, 18.0, 16.0]), _stat([10.0, 11.0, 12.0, 11.0])
    cmp = compare(row, base)
    expected = math.sqrt(row["std"] ** 2 / 4 + base["std"] ** 2 / 4)
    assert cmp["diff"] == pytest.approx(5.0) and cmp["combined_std"] == pytest.approx(expected)
    assert cmp["ratio"] == pytest.approx(5.0 / expected) and cmp["resolved"]


def test_a_difference_inside_the_seed_spread_is_not_resolved():
    cmp = compare(_stat([10.0, 16.0, 13.0]), _stat([9.0, 15.0, 12.0]))
    assert cmp["diff"] == pytest.approx(1.0) and not cmp["resolved"]


def test_one_seed_resolves_nothing():
    cmp = compare(_stat([30.0]), _stat([10.0]))
    assert cmp["ratio"] is None and not cmp["resolved"]


def test_the_tiny_seed_default_is_computed_from_the_stated_std_and_gain():
    assert default_seeds("tiny") == TINY_SEEDS == seeds_to_resolve(PAPER_SMALLEST_DIFF_R1, MEASURED_TINY_R1_STD)
    assert default_seeds("full") == 1
    # at that many seeds, a true gain of that size sits just above 2x the combined std
    n, std = TINY_SEEDS, MEASURED_TINY_R1_STD
    assert PAPER_SMALLEST_DIFF_R1 / math.sqrt(2 * std ** 2 / n) > 2.0
    assert PAPER_SMALLEST_DIFF_R1 / math.sqrt(2 * std ** 2 / (n - 1)) <= 2.0


def test_the_seeds_help_states_the_default_and_the_figures_it_comes_from():
    from vireid.reproduce.cli import reproduce_command
    import inspect

    help_text = inspect.signature(reproduce_command).parameters["seeds"].default.help
    assert f"default: {TINY_SEEDS} at --scale tiny" in help_text
    assert f"+{PAPER_SMALLEST_DIFF_R1} R1" in help_text and f"std of {MEASURED_TINY_R1_STD} R1" in help_text
