"""A stage re-runs exactly when its inputs change or an output is missing."""

from pathlib import Path

import pytest

from vireid.pipeline.cache import run_stage


def _stage(tmp_path: Path, inputs, calls: list, *, force=False, fail=False):
    out = tmp_path / "out.txt"

    def work():
        calls.append(1)
        if fail:
            raise RuntimeError("boom")
        out.write_text("x")

    return run_stage("demo", tmp_path / "stamps", inputs, [out], work, force=force, echo=lambda _: None)


def test_unchanged_inputs_skip_the_stage(tmp_path):
    calls: list = []
    assert _stage(tmp_path, {"a": 1}, calls).ran
    outcome = _stage(tmp_path, {"a": 1}, calls)
    assert not outcome.ran and len(calls) == 1


def test_changed_input_reruns_and_names_the_key(tmp_path):
    calls: list = []
    _stage(tmp_path, {"a": 1, "b": 2}, calls)
    outcome = _stage(tmp_path, {"a": 1, "b": 3}, calls)
    assert outcome.ran and "b" in outcome.reason and len(calls) == 2


def test_missing_output_reruns(tmp_path):
    calls: list = []
    _stage(tmp_path, {"a": 1}, calls)
    (tmp_path / "out.txt").unlink()
    assert _stage(tmp_path, {"a": 1}, calls).ran


def test_force_reruns(tmp_path):
    calls: list = []
    _stage(tmp_path, {"a": 1}, calls)
    assert _stage(tmp_path, {"a": 1}, calls, force=True).ran


def test_failed_stage_leaves_no_stamp_so_it_reruns(tmp_path):
    calls: list = []
    with pytest.raises(RuntimeError):
        _stage(tmp_path, {"a": 1}, calls, fail=True)
    assert not (tmp_path / "stamps" / "demo.json").exists()
    assert _stage(tmp_path, {"a": 1}, calls).ran
