"""Atomic writes: all or nothing, with ordinary file permissions."""

import os
import stat

import pytest

from vireid.atomic import atomic_path, write_json


def test_write_replaces_the_file_whole(tmp_path):
    target = tmp_path / "a.json"
    write_json(target, {"x": 1})
    write_json(target, {"x": 2})
    assert target.read_text().strip().endswith("}") and '"x": 2' in target.read_text()


def test_failure_keeps_the_old_file_and_leaves_no_temp(tmp_path):
    target = tmp_path / "a.txt"
    target.write_text("old")
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            tmp.write_text("half")
            raise RuntimeError("crash")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["a.txt"]


def test_permissions_follow_the_umask_like_open(tmp_path):
    old = os.umask(0o022)
    try:
        path = write_json(tmp_path / "b.json", {})
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == 0o644


def _fail_writes_with(monkeypatch, code):
    def write_bytes(self, data):
        raise OSError(code, os.strerror(code), str(self))

    monkeypatch.setattr("pathlib.Path.write_bytes", write_bytes)


def test_full_disk_is_a_storage_error_naming_the_target_and_no_temp_remains(tmp_path, monkeypatch):
    import errno

    from vireid.atomic import write_atomic
    from vireid.errors import StorageError

    target = tmp_path / "a.bin"
    target.write_bytes(b"old")
    _fail_writes_with(monkeypatch, errno.ENOSPC)
    with pytest.raises(StorageError) as info:
        write_atomic(target, lambda tmp: tmp.write_bytes(b"new"))
    assert str(info.value) == f"no space left on device writing {target}"
    monkeypatch.undo()
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["a.bin"]


def test_read_only_folder_is_a_storage_error_naming_the_target(tmp_path, monkeypatch):
    from vireid.errors import StorageError

    folder = tmp_path / "ro"
    folder.mkdir()
    if os.geteuid() == 0:  # root ignores permissions: simulate the read-only file system
        import errno

        def mkstemp(*args, **kwargs):
            raise OSError(errno.EROFS, "Read-only file system", str(folder / ".x.tmp"))

        monkeypatch.setattr("tempfile.mkstemp", mkstemp)
        expected = "read-only file system"
    else:
        folder.chmod(0o500)
        expected = "permission denied"
    try:
        with pytest.raises(StorageError) as info:
            write_json(folder / "a.json", {})
    finally:
        folder.chmod(0o700)
    assert str(info.value) == f"cannot write {folder / 'a.json'}: {expected}"
    assert list(folder.iterdir()) == []


def test_an_error_about_another_file_keeps_its_name(tmp_path):
    import errno

    from vireid.atomic import write_atomic

    def writer(tmp):
        raise PermissionError(errno.EACCES, "Permission denied", "/some/input.jpg")

    with pytest.raises(PermissionError):
        write_atomic(tmp_path / "a.bin", writer)
    assert list(tmp_path.iterdir()) == []


def test_stale_temps_of_dead_writers_are_removed_live_ones_kept(tmp_path):
    import subprocess

    from vireid.atomic import _host, remove_stale_temps

    target = tmp_path / "cache.u8"
    dead = subprocess.Popen(["true"])
    dead.wait()
    stale = tmp_path / f".cache.u8.{_host()}-{dead.pid}.abc123.tmp"
    live = tmp_path / f".cache.u8.{_host()}-{os.getpid()}.def456.tmp"
    other_host = tmp_path / f".cache.u8.elsewhere-{dead.pid}.ghi789.tmp"
    ownerless_old = tmp_path / ".cache.u8.zzzzzz.tmp"
    for p in (stale, live, other_host, ownerless_old):
        p.write_bytes(b"x")
    os.utime(ownerless_old, (0, 0))
    removed = remove_stale_temps(target)
    assert sorted(removed) == sorted([stale, ownerless_old])
    assert live.exists() and other_host.exists()
