"""vireid embed: one row per image, resumable parts, shards that merge, unreadable images as rows."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

import vireid
from vireid.errors import VireidError
from vireid.inference.embed import embed_images, work_dir
from vireid.inference.features_file import read_embeddings
from vireid.inference.sources import read_source
from vireid.manifests import read_metadata


@pytest.fixture(scope="module")
def model(tiny_checkpoint):
    return vireid.load(tiny_checkpoint)


@pytest.fixture
def folder(synth_sysu_root, tmp_path):
    """Five infrared images of the synthetic benchmark plus one broken file."""
    out = tmp_path / "images"
    out.mkdir()
    for k, path in enumerate(sorted(synth_sysu_root.glob("cam3/*/*.jpg"))[:5]):
        shutil.copy(path, out / f"{k:02d}.jpg")
    (out / "zz_broken.jpg").write_bytes(b"not an image")
    return out


def test_features_match_the_api_and_a_broken_image_is_a_row_with_an_error(model, folder, tmp_path):
    out = tmp_path / "feats.parquet"
    result = embed_images(model, read_source(folder, modality="infrared"), out, batch_size=4,
                          num_workers=0, progress=False)
    assert result.merged and result.embedded == 6 and result.failed == 1
    emb = read_embeddings(out)
    assert emb.paths.to_pylist() == [f"{k:02d}.jpg" for k in range(5)] and emb.skipped == 1
    np.testing.assert_allclose(emb.feats, model.embed(sorted(folder.glob("0*.jpg")), "infrared"), atol=1e-5)
    meta = read_metadata(out)
    assert meta["checkpoint_sha256"] == model.fingerprint and meta["dim"] == model.dim
    assert meta["feature_options"] == model.feature_options.record() and meta["failed"] == 1
    assert not work_dir(out).exists()


def test_a_rerun_resumes_after_the_parts_already_written(model, folder, tmp_path):
    out = tmp_path / "feats.parquet"
    source = read_source(folder, modality="infrared")
    # Shard 0 of 2 stops short of the full set: its parts stay, nothing is merged yet.
    first = embed_images(model, source, out, num_workers=0, shard_index=0, num_shards=2, progress=False)
    assert not first.merged and first.missing == 6 - first.embedded and not out.exists()
    again = embed_images(model, source, out, num_workers=0, shard_index=0, num_shards=2, progress=False)
    assert again.embedded == 0                       # everything of shard 0 was in its parts
    last = embed_images(model, source, out, num_workers=0, shard_index=1, num_shards=2, progress=False)
    assert last.embedded == first.missing and last.merged
    assert len(read_embeddings(out).paths) == 5


def test_parquet_input_keeps_modality_pid_and_camera(model, synth_sysu_root, tmp_path):
    import pyarrow.compute as pc

    from vireid.datasets import build_index
    from vireid.manifests import write_manifest

    index = build_index("sysu", synth_sysu_root)
    table = index.filter(pc.equal(index.column("split"), "test")).slice(0, 6)
    write_manifest(table, tmp_path / "index.parquet", "image-index")
    out = tmp_path / "feats.parquet"
    embed_images(model, read_source(tmp_path / "index.parquet", root=synth_sysu_root), out,
                 num_workers=0, progress=False)
    emb = read_embeddings(out)
    assert emb.modalities.to_pylist() == table.column("modality").to_pylist()
    assert emb.pids.tolist() == table.column("pid").to_pylist()


@pytest.mark.parametrize("make, message", [
    (lambda d: d, "needs --modality"),
    (lambda d: d / "missing", "not found"),
])
def test_bad_sources_are_one_line(folder, make, message):
    with pytest.raises(VireidError, match=message):
        read_source(make(folder))


def test_an_unknown_modality_is_refused(folder):
    with pytest.raises(VireidError, match="--modality must be one of visible, infrared"):
        read_source(folder, modality="thermal")


def test_split_and_modality_select_rows_of_an_image_index(synth_sysu_root, tmp_path):
    from vireid.datasets import build_index
    from vireid.manifests import write_manifest

    index = build_index("sysu", synth_sysu_root)
    write_manifest(index, tmp_path / "index.parquet", "image-index")
    source = read_source(tmp_path / "index.parquet", root=synth_sysu_root, split="test", modality="infrared")
    rows = [r for r in index.to_pylist() if r["split"] == "test" and r["modality"] == "infrared"]
    assert [r.path for r in source.rows] == [r["path"] for r in rows] and rows
    assert {r.modality for r in source.rows} == {"infrared"}
    with pytest.raises(VireidError, match="--split selects rows of a .parquet table"):
        read_source(synth_sysu_root / "cam3", modality="infrared", split="test")
