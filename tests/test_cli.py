"""The entry point: machine conditions and Ctrl-C as one line each; a start-up that imports no heavy module."""

import errno
import subprocess
import sys

import pytest

import vireid.datasets.synth as synth
from vireid.cli import main
from vireid.errors import resume_hint, set_resume_hint


def run(monkeypatch, capsys, *args):
    monkeypatch.setattr(sys, "argv", ["vireid", *args])
    with pytest.raises(SystemExit) as exit_info:
        main()
    out, err = capsys.readouterr()
    return exit_info.value.code or 0, out, err


def synth_raising(monkeypatch, exc):
    def generate(*args, **kwargs):
        raise exc

    monkeypatch.setattr(synth, "generate", generate)


@pytest.fixture(autouse=True)
def _no_hint():
    set_resume_hint(None)
    yield
    set_resume_hint(None)


@pytest.mark.parametrize("code, message", [
    (errno.ENOSPC, "error: no space left on device writing /data/out/x.jpg"),
    (errno.EDQUOT, "error: disk quota exceeded writing /data/out/x.jpg"),
    (errno.EROFS, "error: cannot write /data/out/x.jpg: read-only file system"),
    (errno.EACCES, "error: cannot access /data/out/x.jpg: permission denied"),
])
def test_an_escaping_storage_oserror_is_one_line_naming_the_path(monkeypatch, capsys, tmp_path,
                                                                 code, message):
    synth_raising(monkeypatch, OSError(code, "os message", "/data/out/x.jpg"))
    status, _, err = run(monkeypatch, capsys, "data", "synth", "--out", str(tmp_path / "s"))
    assert status == 2
    assert err.strip().splitlines() == [message]


def test_pyarrow_style_oserror_without_errno_attribute_is_translated(monkeypatch, capsys, tmp_path):
    synth_raising(monkeypatch, OSError("[Errno 28] No space left on device"))
    status, _, err = run(monkeypatch, capsys, "data", "synth", "--out", str(tmp_path / "s"))
    assert status == 2 and err.strip() == "error: no space left on device writing a file"


def test_other_oserrors_keep_their_traceback(monkeypatch, tmp_path):
    synth_raising(monkeypatch, OSError(errno.EIO, "I/O error", "/dev/sdz"))
    monkeypatch.setattr(sys, "argv", ["vireid", "data", "synth", "--out", str(tmp_path / "s")])
    with pytest.raises(OSError):
        main()


def test_ctrl_c_prints_interrupted_and_exits_130(monkeypatch, capsys, tmp_path):
    synth_raising(monkeypatch, KeyboardInterrupt())
    status, _, err = run(monkeypatch, capsys, "data", "synth", "--out", str(tmp_path / "s"))
    assert status == 130 and err.strip() == "interrupted"


def test_ctrl_c_prints_the_resume_hint_the_stage_set(monkeypatch, capsys, tmp_path):
    def generate(*args, **kwargs):
        set_resume_hint("re-run the same command to resume")
        raise KeyboardInterrupt

    monkeypatch.setattr(synth, "generate", generate)
    status, _, err = run(monkeypatch, capsys, "data", "synth", "--out", str(tmp_path / "s"))
    assert status == 130
    assert err.strip() == "interrupted; re-run the same command to resume"


def test_a_resume_hint_can_be_cleared():
    set_resume_hint("resume with --resume auto")
    assert resume_hint() == "resume with --resume auto"
    set_resume_hint(None)
    assert resume_hint() is None


def test_version_names_the_libraries_that_decide_the_numbers(monkeypatch, capsys):
    from importlib.metadata import version

    code, out, _ = run(monkeypatch, capsys, "--version")
    assert code == 0 and out.startswith("vireid ")
    for name in ("torch", "transformers", "bitsandbytes", "open_clip_torch", "numpy", "pillow"):
        assert f"{name} {version(name)}" in out


def test_importing_the_cli_loads_no_torch_open_clip_pyarrow_or_pil():
    code = ("import sys, vireid.cli; heavy = [m for m in ('torch', 'open_clip', 'pyarrow', 'PIL.Image', "
            "'numpy', 'faiss', 'onnxruntime') if m in sys.modules]; print(','.join(heavy))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_vireid_load_is_imported_on_first_use_only():
    code = ("import sys, vireid; before = 'torch' in sys.modules; load = vireid.load; "
            "print(before, callable(load), 'torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "True", "True"]


def test_sigterm_exits_143_with_the_resume_hint(monkeypatch, capsys, tmp_path):
    import os
    import signal

    def generate(*args, **kwargs):
        set_resume_hint("re-run the same command")
        os.kill(os.getpid(), signal.SIGTERM)  # what a scheduler sends
        raise AssertionError("SIGTERM should have stopped the command")

    monkeypatch.setattr(synth, "generate", generate)
    previous = signal.getsignal(signal.SIGTERM)
    try:
        code, _, err = run(monkeypatch, capsys, "data", "synth", "--out", str(tmp_path / "s"))
    finally:
        signal.signal(signal.SIGTERM, previous)
    assert code == 143 and err == "terminated (SIGTERM); re-run the same command\n"


@pytest.mark.parametrize("command", [["train"], ["eval"], ["data", "synth"], ["captions", "tiny-model"],
                                     ["pipeline", "all"]])
def test_help_shows_on_off_flags_without_a_value_type(monkeypatch, capsys, command):
    monkeypatch.setenv("COLUMNS", "200")
    code, out, _ = run(monkeypatch, capsys, *command, "--help")
    assert code == 0 and "--help" in out and "<bool>" not in out


def test_help_states_the_default_output_folders(monkeypatch, capsys):
    monkeypatch.setenv("COLUMNS", "250")
    _, out, _ = run(monkeypatch, capsys, "eval", "--help")
    assert "default: runs/eval/<dataset>[-trial<T>]/<run>-<checkpoint name>" in out
    _, out, _ = run(monkeypatch, capsys, "train", "--help")
    # which variants read captions comes from the registry (`vireid methods`), not a list in the help
    assert "default runs/<preset>-<dataset>[-trial<T>]" in out and "Variants that read captions (`vireid methods`" in out
    _, out, _ = run(monkeypatch, capsys, "pipeline", "all", "--help")
    assert "--set" in out
