"""Issue 18 items 1, 7, 18: a run folder is owned by one run; re-use needs --resume or --force;
resuming a finished run says so; the Ctrl-C hint is the real resume command."""

import json
import os
import signal
import socket
import subprocess
import sys
import time

import pytest

from vireid import errors
from vireid.owned import OWNED_NAME
from vireid.training import run_dir
from vireid.training.run_dir import LOCK_NAME, STALE_AFTER_S, RunDir, RunDirError, RunLock, resume_command

from tests.training.cli_run import run_cli


@pytest.fixture
def common(synth_sysu_root, train_cache_dir):
    return ["--preset", "tiny-baseline", "--root", synth_sysu_root, "--dataset", "sysu",
            "--cache-dir", train_cache_dir, "--set", "run.progress=false",
            "--set", "sampler.max_batches=1", "--workers", "1", "--set", "model.pretrained=none"]


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_a_live_lock_refuses_a_second_run_with_one_line_naming_folder_and_owner(tmp_path):
    (tmp_path / LOCK_NAME).write_text(json.dumps({"pid": os.getppid(), "host": socket.gethostname(),
                                                  "started": "2026-01-01T00:00:00Z"}))
    with pytest.raises(RunDirError) as err:
        RunLock(tmp_path).acquire()
    message = str(err.value)
    assert str(tmp_path) in message and f"pid {os.getppid()}" in message and "\n" not in message


def test_a_stale_lock_of_a_dead_pid_is_taken_over_with_a_warning(tmp_path, capsys):
    (tmp_path / LOCK_NAME).write_text(json.dumps({"pid": _dead_pid(), "host": socket.gethostname()}))
    lock = RunLock(tmp_path).acquire()
    assert "taking over the lock" in capsys.readouterr().err
    assert json.loads((tmp_path / LOCK_NAME).read_text())["pid"] == os.getpid()
    lock.release()
    assert not (tmp_path / LOCK_NAME).exists()


def test_force_keeps_the_old_run_until_the_new_one_finished_and_restores_it_on_failure(tmp_path):
    (tmp_path / "checkpoints").mkdir()
    (tmp_path / "checkpoints" / "last.pt").write_text("old")
    with pytest.raises(RunDirError, match="holds a run already.*--resume auto.*--force"):
        RunDir(tmp_path).claim()
    run = RunDir(tmp_path, force=True, log=lambda _: None).claim()
    assert not (tmp_path / "checkpoints").exists()                      # set aside, not deleted
    (tmp_path / "checkpoints").mkdir()
    (tmp_path / "checkpoints" / "last.pt").write_text("new, partial")
    run.abandon()                                                       # the new run failed
    assert (tmp_path / "checkpoints" / "last.pt").read_text() == "old"
    run = RunDir(tmp_path, force=True, log=lambda _: None).claim()
    (tmp_path / "checkpoints").mkdir()
    (tmp_path / "checkpoints" / "last.pt").write_text("new")
    run.finish()
    assert (tmp_path / "checkpoints" / "last.pt").read_text() == "new"
    assert sorted(p.name for p in tmp_path.iterdir()) == [OWNED_NAME, "checkpoints"]


def _user_files(folder):
    """A user's own files at the top level and inside the folders a run writes."""
    files = {"NOTES.md": "mine", "eval/notes.txt": "my eval", "checkpoints/my_important_epoch.pt": "mine",
             "logs/my_log.txt": "mine"}
    for rel, text in files.items():
        (folder / rel).parent.mkdir(parents=True, exist_ok=True)
        (folder / rel).write_text(text)
    return files


def test_force_moves_and_deletes_only_the_files_a_run_wrote(tmp_path):
    (tmp_path / "checkpoints").mkdir()
    (tmp_path / "checkpoints" / "last.pt").write_text("old")
    (tmp_path / "config.json").write_text("{}")
    mine = _user_files(tmp_path)
    run = RunDir(tmp_path, force=True, log=lambda _: None).claim()
    assert not (tmp_path / "checkpoints" / "last.pt").exists()          # the old run is aside
    (tmp_path / "checkpoints" / "last.pt").write_text("new, partial")
    run.abandon()                                                       # failed: old run back, mine kept
    assert (tmp_path / "checkpoints" / "last.pt").read_text() == "old"
    assert {rel: (tmp_path / rel).read_text() for rel in mine} == mine
    run = RunDir(tmp_path, force=True, log=lambda _: None).claim()
    (tmp_path / "checkpoints" / "last.pt").write_text("new")
    run.finish()
    assert {rel: (tmp_path / rel).read_text() for rel in mine} == mine
    assert not (tmp_path / "config.json").exists() and not (tmp_path / ".replaced-run").exists()
    assert json.loads((tmp_path / OWNED_NAME).read_text())["files"] == ["checkpoints/last.pt"]


def test_a_users_checkpoint_alone_does_not_make_a_run_folder(tmp_path):
    _user_files(tmp_path)
    RunDir(tmp_path).claim().finish()                                  # no --force needed


def test_train_force_keeps_the_users_files(monkeypatch, capsys, common, tmp_path):
    out = tmp_path / "run"
    assert run_cli(monkeypatch, capsys, *common, "--epochs", "1", "--out", out)[0] == 0
    mine = _user_files(out)
    code, _, err = run_cli(monkeypatch, capsys, *common, "--epochs", "1", "--out", out, "--force")
    assert code == 0, err
    assert {rel: (out / rel).read_text() for rel in mine} == mine
    owned = set(json.loads((out / OWNED_NAME).read_text())["files"])
    assert {"config.json", "checkpoints/last.pt", "logs/train.jsonl"} <= owned and not owned & set(mine)


def test_another_hosts_lock_is_taken_over_only_after_its_heartbeat_stopped(tmp_path, capsys):
    lock = tmp_path / LOCK_NAME
    lock.write_text(json.dumps({"pid": 1, "host": "gpu-node-that-died", "started": "2026-01-01T00:00:00Z"}))
    with pytest.raises(RunDirError, match="gpu-node-that-died.*15 min"):
        RunLock(tmp_path).acquire()
    old = time.time() - STALE_AFTER_S - 60
    os.utime(lock, (old, old))
    taken = RunLock(tmp_path).acquire()
    assert "taking over the lock of pid 1 on gpu-node-that-died" in capsys.readouterr().err
    assert json.loads(lock.read_text())["host"] == socket.gethostname()
    taken.release()


def test_a_held_lock_beats(tmp_path, monkeypatch):
    monkeypatch.setattr(run_dir, "HEARTBEAT_S", 0.05)
    lock = RunLock(tmp_path).acquire()
    old = time.time() - 3600
    os.utime(lock.path, (old, old))
    deadline = time.time() + 5
    while lock.path.stat().st_mtime < old + 60 and time.time() < deadline:
        time.sleep(0.05)
    assert lock.path.stat().st_mtime > old + 60
    lock.release()


def test_sigterm_unwinds_like_ctrl_c_and_exits_143(tmp_path, synth_sysu_root, train_cache_dir):
    out = tmp_path / "run"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    # A long first epoch: the SIGTERM arrives while training runs.
    proc = subprocess.Popen([sys.executable, "-m", "vireid", "train", "--preset", "tiny-baseline",
                             "--root", str(synth_sysu_root), "--dataset", "sysu", "--cache-dir",
                             str(train_cache_dir), "--workers", "1", "--epochs", "50", "--out", str(out),
                             "--set", "model.pretrained=none"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    deadline = time.time() + 60
    while not (out / "config.json").exists() and time.time() < deadline:
        time.sleep(0.1)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 143, err
    assert err.strip().splitlines()[-1].startswith("terminated (SIGTERM); resume with: vireid train")
    assert "--resume auto" in err and "Traceback" not in err
    assert not (out / LOCK_NAME).exists()


def test_a_full_disk_names_the_checkpoint_that_failed_and_logs_no_epoch_it_lacks(monkeypatch, capsys, common,
                                                                                 tmp_path):
    import errno

    from vireid.training import engine

    monkeypatch.setattr(engine, "save_checkpoint", lambda path, state: (_ for _ in ()).throw(
        errors.storage_error(OSError(errno.ENOSPC, "full"), path)))
    out = tmp_path / "run"
    code, _, err = run_cli(monkeypatch, capsys, *common, "--epochs", "1", "--out", out)
    assert code == 2 and err.count("error:") == 1
    assert f"error: no space left on device writing {out / 'checkpoints' / 'last.pt'}" in err
    jsonl = out / "logs" / "train.jsonl"
    assert not jsonl.exists() or not jsonl.read_text().strip()   # no epoch logged without its checkpoint


def test_resume_command_replaces_resume_and_force():
    argv = ["/x/bin/vireid", "train", "--preset", "eees", "--out", "runs/a b", "--resume", "x.pt", "--force"]
    assert resume_command(argv) == "vireid train --preset eees --out 'runs/a b' --resume auto"


def test_reusing_a_run_folder_needs_resume_or_force(monkeypatch, capsys, common, tmp_path):
    out = tmp_path / "run"
    code, _, err = run_cli(monkeypatch, capsys, *common, "--epochs", "1", "--out", out)
    assert code == 0, err
    before = (out / "checkpoints" / "last.pt").read_bytes()
    code, _, err = run_cli(monkeypatch, capsys, *common, "--epochs", "1", "--out", out)
    assert code == 2 and err.count("error:") == 1 and "holds a run already (trained 1 of 1 epochs)" in err
    assert (out / "checkpoints" / "last.pt").read_bytes() == before
    # a finished run: resume says so and rewrites nothing
    mtimes = {p: p.stat().st_mtime_ns for p in out.rglob("*") if p.is_file()}
    code, stdout, err = run_cli(monkeypatch, capsys, *common, "--epochs", "1", "--out", out, "--resume", "auto")
    assert code == 0, err
    assert f"already trained 1 of 1 epochs: {out}" in stdout and "last:" not in stdout
    assert {p: p.stat().st_mtime_ns for p in out.rglob("*") if p.is_file()} == mtimes
    # continuing names what was resumed and from which epoch
    code, stdout, err = run_cli(monkeypatch, capsys, *common, "--epochs", "2", "--out", out, "--resume", "auto")
    assert code == 0, err
    assert f"resumed {out / 'checkpoints' / 'last.pt'} after epoch 1 of 2" in err
    # resuming with fewer epochs than done is one clear error
    code, _, err = run_cli(monkeypatch, capsys, *common, "--epochs", "1", "--out", out, "--resume", "auto")
    assert code == 2 and err.count("error:") == 1 and "already trained 2 epochs, more than the 1 configured" in err
    # --force replaces it
    code, stdout, err = run_cli(monkeypatch, capsys, *common, "--epochs", "1", "--out", out, "--force")
    assert code == 0, err
    assert "trained tiny-baseline for 1 epochs" in stdout
    assert not (out / ".replaced-run").exists() and not (out / LOCK_NAME).exists()
    assert [json.loads(x)["epoch"] for x in (out / "logs" / "train.jsonl").read_text().splitlines()] == [1]


def test_ctrl_c_prints_the_real_resume_command(monkeypatch, capsys, common, tmp_path):
    from vireid.training import engine

    def interrupted(self):
        raise KeyboardInterrupt

    monkeypatch.setattr(engine.Trainer, "_fit", interrupted)
    out = tmp_path / "run"
    code, _, err = run_cli(monkeypatch, capsys, *common, "--epochs", "1", "--out", out)
    assert code == 130
    assert "interrupted; resume with: vireid train --preset tiny-baseline" in err
    assert f"--out {out} --resume auto" in err
    assert not (out / LOCK_NAME).exists()
    errors.set_resume_hint(None)


def test_train_into_a_folder_in_use_is_refused_before_any_work(monkeypatch, capsys, common, tmp_path):
    out = tmp_path / "run"
    out.mkdir()
    (out / LOCK_NAME).write_text(json.dumps({"pid": os.getppid(), "host": socket.gethostname(),
                                             "started": "2026-01-01T00:00:00Z"}))
    code, _, err = run_cli(monkeypatch, capsys, *common, "--epochs", "1", "--out", out)
    assert code == 2 and err.count("\n") == 1
    assert f"error: {out}: in use by another run (pid {os.getppid()} on {socket.gethostname()}" in err
    assert sorted(p.name for p in out.iterdir()) == [LOCK_NAME]


def test_a_second_training_while_another_process_owns_the_folder_is_refused(monkeypatch, capsys, common,
                                                                              tmp_path):
    import time
    from pathlib import Path

    import vireid

    out = tmp_path / "run"
    src = str(Path(vireid.__file__).resolve().parents[1])
    owner = subprocess.Popen([sys.executable, "-c",
                              "import sys, time; sys.path.insert(0, sys.argv[1]);"
                              "from vireid.training.run_dir import RunLock; RunLock(sys.argv[2]).acquire();"
                              "time.sleep(120)", src, str(out)])
    try:
        for _ in range(300):
            if (out / LOCK_NAME).exists() and (out / LOCK_NAME).read_text():
                break
            time.sleep(0.1)
        code, _, err = run_cli(monkeypatch, capsys, *common, "--epochs", "1", "--out", out)
        assert code == 2 and f"in use by another run (pid {owner.pid}" in err
        assert not (out / "checkpoints").exists()
    finally:
        owner.kill()
        owner.wait()
    # the owner was killed: its stale lock is taken over and the run proceeds
    code, _, err = run_cli(monkeypatch, capsys, *common, "--epochs", "1", "--out", out)
    assert code == 0, err
    assert "taking over the lock" in err and not (out / LOCK_NAME).exists()
