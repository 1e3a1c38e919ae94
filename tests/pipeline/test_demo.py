"""The demo pipeline end to end at a small size: outputs, caching, and what re-runs when."""

import json

import pyarrow.parquet as pq
import pytest

from vireid.manifests import read_manifest, read_metadata, write_manifest
from vireid.pipeline.demo import DemoConfig, run_demo
from vireid.pipeline.layout import RunLayout
from tests.pretraining.conftest import SMALL_PRETRAIN

pytestmark = pytest.mark.slow

# The tiny presets start from the synthetic-web prior: the demo pretrains a seconds-long one.
SMALL = DemoConfig(ids=12, test_fraction=0.33, images_per_camera=2, height=64, width=32, val_ids=2, epochs=1, trials=2,
                   llava_images=4, overrides=tuple(f"pretrain.{k}={v}" for k, v in SMALL_PRETRAIN.items()))
STAGES = {"synth", "index", "captions", "tiny-llava", "llava-plumbing",
          "train-eees", "eval-eees", "train-baseline", "eval-baseline"}


def _run(out):
    lines: list[str] = []
    summary = run_demo(out, SMALL, echo=lines.append)
    ran = {line.split("]")[0][1:] for line in lines if line.startswith("[") and "running" in line}
    skipped = {line.split("]")[0][1:] for line in lines if line.startswith("[") and "up to date" in line}
    return summary, ran, skipped, lines


@pytest.fixture(scope="module")
def first_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo")
    return out, _run(out)


def test_demo_writes_a_summary_of_both_methods_with_the_chance_level(first_run):
    out, (summary, ran, _, lines) = first_run
    assert ran == STAGES
    assert set(summary) == {"eees", "baseline", "chance"}
    for values in summary.values():
        assert set(values) == {"R1", "mAP", "mINP"}
        assert all(0.0 <= v <= 1.0 for v in values.values())
    assert json.loads((out / "summary.json").read_text()) == summary
    run = RunLayout(out)
    for method in ("eees", "baseline"):
        assert (run.results_dir(method) / "cmc.png").stat().st_size > 0
        record = json.loads(run.results(method).read_text())
        assert record["results"]["settings"]["all_single"]["mean"]["R1"] == summary[method]["R1"]
    assert any("method" in line and "mAP" in line for line in lines)  # the printed table
    for method in ("eees", "baseline"):  # each number says which checkpoint, seed, init and features
        said = [line for line in lines if line.startswith(f"  {method}: ") and "training seed" in line]
        assert len(said) == 1 and "init synthetic-web" in said[0] and "test feature concat" in said[0], said
    page = out / "report.html"
    assert any(line.startswith(f"report: {page}") for line in lines)
    assert "Comparison" in page.read_text() and "Run eees" in page.read_text()


def test_the_captioning_plumbing_demo_goes_through_the_real_captioner(first_run):
    out, _ = first_run
    table = read_manifest(out / "manifests" / "llava-plumbing-demo" / "captions.parquet", "captions")
    assert table.num_rows == SMALL.llava_images
    assert set(table.column("source").to_pylist()) == {"llava"}


def test_a_second_run_skips_every_stage(first_run):
    out, (summary, *_) = first_run
    again, ran, skipped, _ = _run(out)
    assert ran == set() and skipped == STAGES
    assert again == summary


def test_a_changed_caption_manifest_reruns_only_caption_training_and_its_eval(first_run):
    out, _ = first_run
    path = RunLayout(out).captions
    table = pq.read_table(path)
    captions = table.column("caption").to_pylist()
    captions[0] = captions[0] + " carrying a red umbrella"
    table = table.set_column(table.schema.get_field_index("caption"), "caption", [captions])
    write_manifest(table, path, "captions", metadata=read_metadata(path))

    _, ran, skipped, _ = _run(out)
    assert ran == {"train-eees", "eval-eees"}  # baseline does not read captions
    assert skipped == STAGES - ran
