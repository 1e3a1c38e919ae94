"""`vireid pretrain`: settings by --set, bad input one line, the checks printed."""

from tests.pretraining.conftest import SMALL_PRETRAIN
from tests.training.cli_run import run_vireid


def _run(monkeypatch, capsys, *args):
    """``(exit code, stdout, stderr)`` of ``vireid pretrain ARGS``."""
    return run_vireid(monkeypatch, capsys, "pretrain", *args)


def test_a_small_pretraining_prints_its_checks_beside_chance(monkeypatch, capsys, tmp_path):
    monkeypatch.setenv("VIREID_CACHE", str(tmp_path))
    sets = [x for k, v in SMALL_PRETRAIN.items() for x in ("--set", f"{k}={v}")]
    code, out, err = _run(monkeypatch, capsys, "--no-progress", *sets)
    assert code == 0, err
    assert "zero-shot caption->image" in out and "(chance R1 25.0% " in out
    assert f"summary: {tmp_path / 'pretrain'}" in out


def test_an_unknown_or_bad_setting_is_one_error_line(monkeypatch, capsys, tmp_path):
    monkeypatch.setenv("VIREID_CACHE", str(tmp_path))
    code, _, err = _run(monkeypatch, capsys, "--set", "stepz=3")
    assert code == 2 and err.startswith("error: unknown config key pretrain.stepz") and len(err.splitlines()) == 1
    code, _, err = _run(monkeypatch, capsys, "--set", "greyscale_rate=1.5")
    assert code == 2 and err == "error: pretrain.greyscale_rate: must lie in [0, 1], got 1.5\n"
    assert not (tmp_path / "pretrain").exists()


def test_a_missing_benchmark_is_one_error_line_before_any_pretraining(monkeypatch, capsys, tmp_path):
    monkeypatch.setenv("VIREID_CACHE", str(tmp_path / "cache"))
    code, _, err = _run(monkeypatch, capsys, "--benchmark", tmp_path / "nowhere", "--no-progress")
    assert code != 0 and err.strip().splitlines() == [f"error: {tmp_path / 'nowhere'}: dataset root not found (--benchmark)"]
    assert not (tmp_path / "cache").exists()
