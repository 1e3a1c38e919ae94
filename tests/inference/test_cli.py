"""The commands: embed -> search -> sheet on the synthetic benchmark; bad input is one line."""

from __future__ import annotations

import subprocess
import sys

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from vireid.cli import app
from vireid.errors import VireidError

runner = CliRunner()


@pytest.fixture(scope="module")
def embedded(tiny_checkpoint, synth_sysu_root, tmp_path_factory):
    """Infrared test images as queries, visible ones as gallery, embedded by the CLI."""
    import pyarrow.compute as pc

    from vireid.datasets import build_index
    from vireid.manifests import write_manifest

    tmp = tmp_path_factory.mktemp("cli")
    index = build_index("sysu", synth_sysu_root)
    test = index.filter(pc.equal(index.column("split"), "test"))
    files = {}
    for name, modality, count in (("q", "infrared", 6), ("g", "visible", 20)):
        write_manifest(test.filter(pc.equal(test.column("modality"), modality)).slice(0, count),
                       tmp / f"{name}-index.parquet", "image-index")
        files[name] = tmp / f"{name}.parquet"
        result = runner.invoke(app, ["embed", "--checkpoint", str(tiny_checkpoint), "--images",
                                     str(tmp / f"{name}-index.parquet"), "--root", str(synth_sysu_root),
                                     "--out", str(files[name]), "--workers", "0"])
        assert result.exit_code == 0, result.output
        assert f"embedded {count} images (0 unreadable)" in result.output
    return tmp, files


def test_search_writes_ranked_lists_with_paths_scores_matches_and_a_sheet(embedded):
    tmp, files = embedded
    out, sheet = tmp / "ranked.parquet", tmp / "sheet.png"
    result = runner.invoke(app, ["search", "--queries", str(files["q"]), "--gallery", str(files["g"]),
                                 "--top-k", "5", "--out", str(out), "--sheet", str(sheet)])
    assert result.exit_code == 0, result.output
    table = pq.read_table(out)
    assert table.num_rows == 6 * 5 and table.column("rank").to_pylist()[:5] == [1, 2, 3, 4, 5]
    scores = table.column("score").to_pylist()
    assert all(a >= b for a, b in zip(scores[:5], scores[1:5]))
    match = [q == g for q, g in zip(table.column("query_pid").to_pylist(), table.column("gallery_pid").to_pylist())]
    assert table.column("match").to_pylist() == match
    assert sheet.stat().st_size > 1000


def test_faiss_search_names_its_index(embedded):
    tmp, files = embedded
    result = runner.invoke(app, ["search", "--queries", str(files["q"]), "--gallery", str(files["g"]),
                                 "--index", "faiss", "--out", str(tmp / "f.parquet")])
    assert result.exit_code == 0, result.output
    assert "faiss-ivfflat" in result.output and pq.read_table(tmp / "f.parquet").num_rows == 6 * 10


def test_features_of_another_checkpoint_or_dimension_are_refused_in_one_line(embedded, tiny_checkpoint,
                                                                            synth_sysu_root, tmp_path):
    import json

    import pyarrow as pa

    _, files = embedded
    table = pq.read_table(files["g"])
    meta = json.loads(table.schema.metadata[b"vireid.metadata"])
    other = tmp_path / "other.parquet"
    pq.write_table(table.replace_schema_metadata({**table.schema.metadata, b"vireid.metadata": json.dumps(
        {**meta, "checkpoint_sha256": "f" * 64}).encode()}), other)
    result = runner.invoke(app, ["search", "--queries", str(files["q"]), "--gallery", str(other),
                                 "--out", str(tmp_path / "r.parquet")])
    assert isinstance(result.exception, VireidError) and "different checkpoints" in str(result.exception)
    short = table.set_column(table.schema.get_field_index("feature"), "feature",
                             pa.array([f[:7] for f in table.column("feature").to_pylist()], pa.list_(pa.float32())))
    narrow = tmp_path / "narrow.parquet"
    pq.write_table(short.replace_schema_metadata(table.schema.metadata), narrow)
    result = runner.invoke(app, ["search", "--queries", str(files["q"]), "--gallery", str(narrow),
                                 "--out", str(tmp_path / "r.parquet")])
    assert isinstance(result.exception, VireidError) and "7-d" in str(result.exception)


@pytest.mark.parametrize("command", ["embed", "export"])
def test_a_file_that_is_not_a_checkpoint_is_one_error_line(command, tmp_path, synth_sysu_root):
    fake = tmp_path / "model.pt"
    fake.write_text("hello")
    args = {"embed": ["embed", "--images", str(synth_sysu_root / "cam1"), "--modality", "visible",
                      "--out", str(tmp_path / "f.parquet")],
            "export": ["export", "--out", str(tmp_path / "x")]}[command]
    out = subprocess.run([sys.executable, "-m", "vireid.cli", *args, "--checkpoint", str(fake)],
                         capture_output=True, text=True)
    assert out.returncode == 2
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {fake}: unreadable checkpoint, not a vireid .pt file")


def test_faiss_pq_search_reads_the_gallery_from_disk_and_returns_exact_scores(tmp_path):
    import numpy as np

    from tests.inference.galleries import clustered, write_gallery

    rng = np.random.default_rng(0)
    gallery = write_gallery(tmp_path / "g.parquet", clustered(rng, 1200, 32, 40))
    queries = write_gallery(tmp_path / "q.parquet", clustered(rng, 8, 32, 40), prefix="q")
    ranked = {}
    for index in ("exact", "faiss-pq"):
        out = tmp_path / f"{index}.parquet"
        result = runner.invoke(app, ["search", "--queries", str(queries), "--gallery", str(gallery), "--top-k", "5",
                                     "--index", index, "--pq-m", "8", "--nprobe", "40", "--block-size", "100",
                                     "--out", str(out)])
        assert result.exit_code == 0, result.output
        table = pq.read_table(out)
        ranked[index] = dict(zip(zip(table.column("query").to_pylist(), table.column("gallery").to_pylist()),
                                 table.column("score").to_pylist()))
    assert "faiss-ivfpq-rescored" in result.output and "'pq_m': 8" in result.output
    shared = ranked["exact"].keys() & ranked["faiss-pq"].keys()
    assert len(shared) >= 0.95 * len(ranked["exact"])           # recall@5 against the exact search
    assert all(abs(ranked["faiss-pq"][key] - ranked["exact"][key]) < 1e-5 for key in shared)


def test_a_gallery_too_small_for_pq_codebooks_is_one_line(embedded, tmp_path):
    _, files = embedded
    out = subprocess.run([sys.executable, "-m", "vireid.cli", "search", "--queries", str(files["q"]),
                          "--gallery", str(files["g"]), "--index", "faiss-pq", "--pq-m", "8",
                          "--out", str(tmp_path / "r.parquet")], capture_output=True, text=True)
    assert out.returncode == 2
    assert out.stderr.strip().splitlines() == [
        f"error: {files['g']}: faiss-pq needs at least 256 gallery rows (its codebooks have 256 entries), "
        "got 20; use --index exact"]
