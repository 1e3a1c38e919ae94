"""End-to-end captioning runs: one row per image, schema, cache, resume, shards, bad images."""

import json
from collections import Counter

import pyarrow.parquet as pq
import pytest
from PIL import Image

from vireid.captioning import writer
from vireid.captioning.runner import run_captioning
from vireid.errors import VireidError
from vireid.manifests import CAPTION_SCHEMA, read_manifest, to_table

from .conftest import index_row, write_images


@pytest.fixture
def captioner(tiny_captioner):
    return tiny_captioner


class Crash(Exception):
    pass


def _ids(out):
    return read_manifest(out / "captions.parquet", "captions").column("image_id").to_pylist()


def test_one_row_per_image_with_the_caption_schema(image_root, fast_config, captioner, tmp_path):
    root, index = image_root
    out = tmp_path / "out"
    summary = run_captioning(index, root, out, fast_config, progress=False, captioner=captioner)
    table = pq.read_table(out / "captions.parquet")
    assert table.schema.equals(CAPTION_SCHEMA, check_metadata=False)
    assert sorted(table.column("image_id").to_pylist()) == sorted(index.column("image_id").to_pylist())
    rows = table.to_pylist()
    assert all(r["caption"] and r["error"] is None for r in rows)
    assert all(r["source"] == "llava" and r["quantization"] == "none" for r in rows)
    assert all(r["num_tokens"] >= 3 and r["truncated"] is False for r in rows)
    assert json.loads(rows[0]["generation"])["max_new_tokens"] == 8
    assert {r["prompt"] for r in rows} == {
        "USER: <image>\nPlease describe the characteristics of the pedestrian image ASSISTANT:"}
    assert rows[0]["model_revision"].startswith("files-")
    assert not (out / "parts").exists()  # compacted: parts removed once complete
    saved = json.loads((out / "captions.summary.json").read_text())
    assert saved["images"] == 10 and saved["errors"] == 0 and saved["mean_tokens"] > 2
    assert summary["run"]["images_this_run"] == 10 and summary["run"]["images_per_s"] > 0


def test_only_requested_splits_and_limit(image_root, fast_config, captioner, tmp_path):
    root, index = image_root
    rows = index.to_pylist()
    rows[0]["split"] = "test"
    out = tmp_path / "out"
    run_captioning(to_table(rows, "image-index"), root, out, fast_config.replace(limit=4),
                   progress=False, captioner=captioner)
    assert _ids(out) == [r["image_id"] for r in rows[1:5]]


def test_finished_manifest_is_not_recomputed_unless_forced(image_root, fast_config, captioner, tmp_path):
    root, index = image_root
    index = index.slice(0, 4)  # four images are enough to see what is recomputed
    out = tmp_path / "out"
    run_captioning(index, root, out, fast_config, progress=False, captioner=captioner)
    stamp = (out / "captions.parquet").stat().st_mtime_ns
    messages = []
    summary = run_captioning(index, root, out, fast_config, progress=False, captioner=captioner, log=messages.append)
    assert summary["cached"] is True and summary["images"] == 4
    assert len(messages) == 1 and "up to date" in messages[0]
    assert (out / "captions.parquet").stat().st_mtime_ns == stamp

    # A changed input (the infrared prompt) invalidates the manifest.
    changed = fast_config.replace(prompt_infrared="describe the person")
    summary = run_captioning(index, root, out, changed, progress=False, captioner=captioner)
    assert summary["cached"] is False and summary["run"]["images_this_run"] == 4

    summary = run_captioning(index, root, out, changed.replace(force=True), progress=False, captioner=captioner)
    assert summary["cached"] is False and summary["run"]["images_this_run"] == 4
    assert sorted(_ids(out)) == sorted(index.column("image_id").to_pylist())


def test_resume_after_a_crash_gives_exactly_one_row_per_image(image_root, fast_config, captioner, tmp_path):
    root, index = image_root
    out = tmp_path / "out"

    def crash_after_two(n):
        if n == 2:
            raise Crash

    config = fast_config.replace(batch_size=2, flush_every=1)
    with pytest.raises(Crash):
        run_captioning(index, root, out, config, progress=False, captioner=captioner, on_batch=crash_after_two)
    assert not (out / "captions.parquet").exists()
    done_before = writer.done_ids(out, json.loads((out / "run.json").read_text())["fingerprint"])
    assert len(done_before) == 4

    messages = []
    summary = run_captioning(index, root, out, config, progress=False, captioner=captioner, log=messages.append)
    assert summary["run"]["images_this_run"] == 6  # only the missing ones
    assert any("resuming: 4 of 10" in m for m in messages)
    ids = _ids(out)
    assert Counter(ids) == Counter(index.column("image_id").to_pylist())


def test_two_shards_cover_all_images_disjointly_and_the_last_merges(image_root, fast_config, captioner, tmp_path):
    root, index = image_root
    out = tmp_path / "out"
    first = run_captioning(index, root, out, fast_config.replace(num_shards=2, shard_index=0),
                           progress=False, captioner=captioner)
    assert first["complete"] is False and not (out / "captions.parquet").exists()
    parts = writer.read_parts(out)
    shard0 = {i for p in parts for i in p.table.column("image_id").to_pylist()}
    second = run_captioning(index, root, out, fast_config.replace(num_shards=2, shard_index=1),
                            progress=False, captioner=captioner)
    assert second["images"] == 10
    ids = _ids(out)
    assert Counter(ids) == Counter(index.column("image_id").to_pylist())
    assert second["run"]["images_this_run"] == 10 - len(shard0)  # shard 1 did only its share
    assert 0 < len(shard0) < 10


def test_bad_images_get_error_rows_and_are_listed(tmp_path, fast_config, captioner):
    root = tmp_path / "images"
    rows = write_images(root, 4)
    (root / "cam1/zero.jpg").write_bytes(b"")
    (root / "cam1/cut.jpg").write_bytes((root / rows[0]["path"]).read_bytes()[:300])
    Image.new("CMYK", (20, 40), (10, 200, 30, 0)).save(root / "cam1/cmyk.jpg")
    Image.new("RGBA", (20, 40), (10, 200, 30, 128)).save(root / "cam1/rgba.png")
    for name in ("zero.jpg", "cut.jpg", "cmyk.jpg", "rgba.png", "missing.jpg"):
        rows.append(index_row(f"cam1/{name}", "visible", pid=9))
    out = tmp_path / "out"
    summary = run_captioning(to_table(rows, "image-index"), root, out, fast_config, progress=False, captioner=captioner)
    table = {r["path"]: r for r in read_manifest(out / "captions.parquet", "captions").to_pylist()}
    assert len(table) == 9
    for good in ("cam1/cmyk.jpg", "cam1/rgba.png"):
        assert table[good]["caption"] and table[good]["error"] is None
    for bad in ("cam1/zero.jpg", "cam1/cut.jpg", "cam1/missing.jpg"):
        assert table[bad]["caption"] is None and table[bad]["num_tokens"] is None
        assert bad.split("/")[1] in table[bad]["error"]
    assert summary["errors"] == 3
    assert sorted(e["path"] for e in summary["error_images"]) == \
        ["cam1/cut.jpg", "cam1/missing.jpg", "cam1/zero.jpg"]


def test_no_images_in_the_splits_is_a_user_error(image_root, fast_config, captioner, tmp_path):
    root, index = image_root
    with pytest.raises(VireidError, match="split"):
        run_captioning(index, root, tmp_path / "out", fast_config.replace(splits=("test",)),
                       progress=False, captioner=captioner)
