"""The page in a real browser: headless Chromium (Debian's ``chromium``) renders it from
disk with networking off; the rendered DOM holds the tables and a screenshot is kept as the
test artefact (``<pytest tmp dir>/browser*/report.png``, or ``$VIREID_TEST_ARTEFACTS``)."""

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from vireid.report import write_report

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def _find_chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="session")
def chromium() -> str:
    """The browser; installed with apt where absent and possible, else the test is skipped."""
    found = _find_chromium()
    if found:
        return found
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        pytest.skip("chromium is not installed and cannot be installed here (apt-get as root needed): "
                    "apt-get install chromium")
    try:
        subprocess.run(["apt-get", "install", "-y", "-q", "chromium"], capture_output=True, timeout=600,
                       check=True, env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})
    except (subprocess.SubprocessError, OSError) as exc:
        pytest.skip(f"chromium could not be installed with apt-get ({type(exc).__name__}); "
                    f"install it to run the browser test")
    found = _find_chromium()
    if not found:
        pytest.skip("apt-get install chromium succeeded but no chromium binary is on PATH")
    return found


def _browser(chromium, profile, *args, timeout=120):
    return subprocess.run([chromium, *FLAGS, f"--user-data-dir={profile}", *args], capture_output=True,
                          text=True, timeout=timeout)


def test_chromium_renders_the_report_with_its_tables(chromium, tiny_run, tmp_path):
    page = write_report([tiny_run], tmp_path / "report.html", hardest=2)
    url = page.resolve().as_uri()
    dom = _browser(chromium, tmp_path / "profile", "--dump-dom", url)
    assert dom.returncode == 0, dom.stderr[-2000:]
    text = dom.stdout
    for expected in ("Protocol table", "all-search single-shot", "chance R1", "Per camera pair and direction",
                     "query camera", "Hardest queries", "Provenance", "tiny-eees"):
        assert expected in text
    assert text.count("data:image/png;base64,") == 4

    artefacts = Path(os.environ.get("VIREID_TEST_ARTEFACTS") or tmp_path)
    artefacts.mkdir(parents=True, exist_ok=True)
    shot = artefacts / "report.png"
    taken = _browser(chromium, tmp_path / "profile", "--window-size=1280,2400", f"--screenshot={shot}", url)
    assert taken.returncode == 0, taken.stderr[-2000:]
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 20_000
