"""vireid.progress: bars on a terminal only; in a log file plain periodic lines, libraries quiet."""

import io
import sys

import pytest

from vireid import progress


class _Terminal(io.StringIO):
    def isatty(self):
        return True


def test_off_a_terminal_a_bar_is_plain_lines_without_carriage_returns(monkeypatch):
    log = io.StringIO()
    monkeypatch.setattr(sys, "stderr", log)
    bar = progress.Bar("captioning", 4, "img", every=0.0)
    bar.update(2)
    bar.update(2)
    bar.close()
    lines = log.getvalue().splitlines()
    assert "\r" not in log.getvalue() and len(lines) == 2
    assert lines[-1].startswith("captioning: 4/4 img")


def test_a_disabled_bar_prints_nothing(monkeypatch):
    log = io.StringIO()
    monkeypatch.setattr(sys, "stderr", log)
    bar = progress.Bar("captioning", 4, "img", enabled=False, every=0.0)
    bar.update(4)
    bar.close()
    assert log.getvalue() == ""


@pytest.fixture
def transformers_bars():
    transformers_logging = pytest.importorskip("transformers.utils.logging")
    hub = pytest.importorskip("huggingface_hub.utils")
    transformers_logging.enable_progress_bar()
    hub.enable_progress_bars()
    yield transformers_logging, hub
    transformers_logging.enable_progress_bar()
    hub.enable_progress_bars()


def test_off_a_terminal_the_libraries_already_imported_are_silenced(monkeypatch, transformers_bars):
    transformers_logging, hub = transformers_bars
    for name in ("TQDM_DISABLE", "HF_HUB_DISABLE_PROGRESS_BARS"):  # restored after the test
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(sys, "stderr", io.StringIO())
    progress.quiet_library_bars()
    assert not transformers_logging.is_progress_bar_enabled() and hub.are_progress_bars_disabled()


def test_on_a_terminal_library_bars_stay(monkeypatch, transformers_bars):
    transformers_logging, hub = transformers_bars
    monkeypatch.setattr(sys, "stderr", _Terminal())
    progress.quiet_library_bars()
    assert transformers_logging.is_progress_bar_enabled() and not hub.are_progress_bars_disabled()
