"""`vireid pipeline` commands: user errors are one line; options reach the stages."""

from typer.testing import CliRunner

from vireid.cli import app
from vireid.manifests import read_manifest
from vireid.pipeline.layout import RunLayout

runner = CliRunner()


def test_captions_with_reference_source_indexes_with_the_requested_hold_out(synth_sysu_root, tmp_path):
    result = runner.invoke(app, ["pipeline", "captions", "--dataset", "sysu", "--root", str(synth_sysu_root),
                                 "--run", str(tmp_path), "--captions", "reference", "--val-ids", "3"])
    assert result.exit_code == 0, result.output
    index = read_manifest(RunLayout(tmp_path).index, "image-index").to_pydict()
    held_out = {pid for pid, split in zip(index["pid"], index["split"]) if split == "val"}
    assert len(held_out) == 3
    assert read_manifest(RunLayout(tmp_path).captions, "captions").num_rows > 0


def test_training_a_caption_method_before_the_captions_stage_is_a_clear_error(synth_sysu_root, tmp_path):
    result = runner.invoke(app, ["pipeline", "train", "--root", str(synth_sysu_root), "--run", str(tmp_path),
                                 "--method", "tiny-eees"])
    assert result.exit_code != 0
    assert "run the captions stage first" in str(result.exception)


def test_a_missing_dataset_root_names_the_path(tmp_path):
    result = runner.invoke(app, ["pipeline", "eval", "--root", str(tmp_path / "nope"), "--run", str(tmp_path)])
    assert result.exit_code != 0
    assert "nope: dataset root not found" in str(result.exception)
