"""`vireid data synth` options: every benchmark-version-2 option reaches the recorded config,
and a bad value is one error line with a non-zero exit."""

import json
import sys

import pytest

from vireid.cli import main
from vireid.datasets.synth import SynthConfig


def run(monkeypatch, capsys, *args):
    monkeypatch.setattr(sys, "argv", ["vireid", "data", "synth", *args])
    with pytest.raises(SystemExit) as exit_info:
        main()
    out, err = capsys.readouterr()
    return exit_info.value.code or 0, out, err


SMALL = ("--ids", "6", "--images-per-camera", "1", "--height", "64", "--width", "32", "--test-fraction", "0.33")


def test_options_are_recorded_in_synth_json(monkeypatch, capsys, tmp_path):
    code, out, _ = run(monkeypatch, capsys, "--layout", "regdb", "--out", str(tmp_path / "s"), *SMALL,
                       "--no-views", "--view-bias", "0.2", "--feet-crop-rate", "0.0",
                       "--caption-omit-rate", "0.1", "--caption-error-rate", "0.2",
                       "--caption-filler-rate", "0.0", "--caption-view-rate", "0.5",
                       "--ir-color-error-rate", "0.4")
    assert code == 0 and "benchmark version 2" in out
    config = json.loads((tmp_path / "s" / "synth.json").read_text())["config"]
    expected = {"views": False, "view_bias": 0.2, "feet_crop_rate": 0.0, "caption_omit_rate": 0.1,
                "caption_error_rate": 0.2, "caption_filler_rate": 0.0, "caption_view_rate": 0.5,
                "ir_color_error_rate": 0.4, "version": 2}
    assert {k: config[k] for k in expected} == expected

def test_option_defaults_are_the_config_defaults(monkeypatch, capsys, tmp_path):
    code, _, _ = run(monkeypatch, capsys, "--out", str(tmp_path / "d"), *SMALL)
    assert code == 0
    config = json.loads((tmp_path / "d" / "synth.json").read_text())["config"]
    defaults = SynthConfig(ids=6, images_per_camera=1, height=64, width=32, test_fraction=0.33)
    assert config == defaults.metadata()


@pytest.mark.parametrize("args, message", [
    (("--caption-omit-rate", "1.5"), "error: caption_omit_rate: must lie in [0, 1], got 1.5"),
    (("--benchmark-version", "7"), "error: version: benchmark version must be one of 1, 2, got 7"),
    (("--benchmark-version", "1", "--view-bias", "0.9"), "error: view_bias: only benchmark version 2"),
])
def test_bad_options_give_one_error_line_and_exit_2(monkeypatch, capsys, tmp_path, args, message):
    code, _, err = run(monkeypatch, capsys, "--out", str(tmp_path / "x"), *SMALL, *args)
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(message), err
    assert not (tmp_path / "x").exists()
