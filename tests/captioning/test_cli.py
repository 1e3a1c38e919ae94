"""The `vireid captions` command: errors exit 2 in one line, SIGKILL-safe resume, merge."""

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from typer.testing import CliRunner

from vireid.captioning.cli import captions_app
from vireid.captioning.runner import run_captioning
from vireid.errors import VireidError
from vireid.manifests import read_manifest, to_table, write_manifest

from .conftest import write_images


def _vireid(*args, **kwargs):
    return subprocess.Popen([sys.executable, "-m", "vireid", "captions", *map(str, args)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kwargs)


def test_missing_model_is_one_error_line_and_exit_2(tmp_path):
    index = tmp_path / "index.parquet"
    root = tmp_path / "images"
    write_manifest(to_table(write_images(root, 2), "image-index"), index, "image-index")
    proc = _vireid("--index", index, "--root", root, "--out", tmp_path / "out",
                   "--model", "nobody/no-such-llava", "--quantization", "none")
    stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 2, stderr
    assert stderr.startswith("error: model 'nobody/no-such-llava' not found")
    assert "HF_HUB_OFFLINE" in stderr and "Traceback" not in stderr


def test_sigkill_mid_run_then_rerun_gives_one_row_per_image(tmp_path, tiny_model, fast_config,
                                                             tiny_captioner):
    root = tmp_path / "images"
    rows = write_images(root, 8)
    index = tmp_path / "index.parquet"
    write_manifest(to_table(rows, "image-index"), index, "image-index")
    out = tmp_path / "out"
    proc = _vireid("--index", index, "--root", root, "--out", out, "--model", tiny_model,
                   "--quantization", "none", "--batch-size", "1", "--flush-every", "1",
                   "--max-new-tokens", "8", "--workers", "0", "--quiet")
    deadline = time.time() + 120
    while time.time() < deadline and len(list((out / "parts").glob("part-*.parquet"))) < 2:
        assert proc.poll() is None, proc.communicate()[1]
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert not (out / "captions.parquet").exists()
    done = len(list((out / "parts").glob("part-*.parquet")))
    assert 2 <= done < 8

    summary = run_captioning(to_table(rows, "image-index"), root, out,
                             fast_config.replace(batch_size=1, max_new_tokens=8),
                             progress=False, captioner=tiny_captioner)
    assert summary["run"]["images_this_run"] == 8 - done
    ids = read_manifest(out / "captions.parquet", "captions").column("image_id").to_pylist()
    assert Counter(ids) == Counter(r["image_id"] for r in rows)


def test_merge_command_reports_missing_images(tmp_path, fast_config, tiny_captioner):
    root = tmp_path / "images"
    rows = write_images(root, 6)
    out = tmp_path / "out"
    run_captioning(to_table(rows, "image-index"), root, out,
                   fast_config.replace(num_shards=2, shard_index=0), progress=False,
                   captioner=tiny_captioner)
    result = CliRunner().invoke(captions_app, ["merge", str(out)])
    assert result.exit_code == 0, result.output
    assert "still missing" in result.output
    assert (out / "captions.parquet").is_file() and (out / "parts").is_dir()


def test_help_documents_the_default_splits():
    result = CliRunner().invoke(captions_app, ["--help"])
    assert result.exit_code == 0
    assert "train,val" in result.output and "merge" in result.output


def test_dataset_option_captions_the_training_images_of_a_sysu_layout(synth_sysu_root, tiny_model,
                                                                     tmp_path):
    out = tmp_path / "out"
    result = CliRunner().invoke(captions_app, [
        "--dataset", "sysu", "--root", str(synth_sysu_root), "--out", str(out), "--limit", "6",
        "--model", str(tiny_model), "--quantization", "none", "--workers", "0",
        "--max-new-tokens", "6", "--quiet"])
    assert result.exit_code == 0, result.output
    assert "images 6, captioned 6, errors 0" in result.output
    table = read_manifest(out / "captions.parquet", "captions")
    assert table.num_rows == 6
    assert set(table.column("image_id").to_pylist()) <= {
        f"sysu:{p.relative_to(synth_sysu_root).as_posix()}" for p in synth_sysu_root.rglob("*.jpg")}


def test_tiny_model_writes_a_loadable_checkpoint_and_rejects_unknown_sizes(tmp_path):
    from vireid.cli import app

    ok = CliRunner().invoke(app, ["captions", "tiny-model", "--out", str(tmp_path / "m")])
    assert ok.exit_code == 0 and (tmp_path / "m" / "config.json").is_file()
    bad = CliRunner().invoke(app, ["captions", "tiny-model", "--out", str(tmp_path / "x"), "--size", "13b"])
    assert isinstance(bad.exception, VireidError)      # main() prints it in one line, exit 2
    assert "--size: one of tiny, llava-1.5-7b" in str(bad.exception)
    assert not (tmp_path / "x").exists()


def test_tiny_model_positional_out_still_works_for_one_release_with_a_deprecation_line(tmp_path):
    from vireid.cli import app

    result = CliRunner().invoke(app, ["captions", "tiny-model", str(tmp_path / "m")])
    assert result.exit_code == 0 and (tmp_path / "m" / "config.json").is_file()
    warnings = [ln for ln in result.output.splitlines() if ln.startswith("warning:")]
    assert len(warnings) == 1 and "deprecated" in warnings[0] and f"--out {tmp_path / 'm'}" in warnings[0]
    both = CliRunner().invoke(app, ["captions", "tiny-model", str(tmp_path / "a"), "--out", str(tmp_path / "b")])
    assert isinstance(both.exception, VireidError) and "give the folder once" in str(both.exception)


def test_ctrl_c_during_captioning_says_how_to_resume_and_exits_130(tmp_path, monkeypatch, capsys):
    import pytest

    from vireid.cli import main
    from vireid.errors import set_resume_hint

    index = tmp_path / "index.parquet"
    write_manifest(to_table(write_images(tmp_path / "images", 2), "image-index"), index, "image-index")

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr("vireid.captioning.runner.run_captioning", interrupted)
    monkeypatch.setattr(sys, "argv", ["vireid", "captions", "--index", str(index), "--root",
                                      str(tmp_path / "images"), "--out", str(tmp_path / "out")])
    try:
        with pytest.raises(SystemExit) as info:
            main()
    finally:
        set_resume_hint(None)
    assert info.value.code == 130
    assert capsys.readouterr().err == "interrupted; re-run the same command to resume\n"
