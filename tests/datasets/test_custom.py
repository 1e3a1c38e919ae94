"""The custom layout: an index file lists every image; every bad row is one line naming its
line (or row) and path; the rows become an ordinary image index."""

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from PIL import Image

from vireid.datasets import build_index, check_dataset
from vireid.datasets.custom import read_index
from vireid.errors import DatasetError

HEADER = "path,pid,camera,modality,split"


def make_root(tmp_path: Path, lines: list[str], images=None, name="index.csv") -> Path:
    root = tmp_path / "mine"
    for rel in images if images is not None else [line.split(",")[0] for line in lines]:
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        Image.new("RGB", (8, 16), (90, 90, 90)).save(root / rel)
    root.mkdir(exist_ok=True)
    (root / name).write_text("\n".join([HEADER, *lines]) + "\n")
    return root


GOOD = ["v/1a.jpg,1,1,visible,train", "i/1b.jpg,1,2,infrared,train",
        "v/2a.jpg,2,1,visible,train", "i/2b.jpg,2,2,infrared,train",
        "i/7q.jpg,7,2,infrared,query", "v/7g.jpg,7,1,visible,gallery",
        "v/8q.jpg,8,1,visible,query", "i/8g.jpg,8,2,infrared,gallery"]


def test_a_valid_index_becomes_an_image_index(tmp_path):
    root = make_root(tmp_path, GOOD)
    table = build_index("custom", root, val_ids=0)
    rows = table.to_pylist()
    assert [r["split"] for r in rows] == ["train"] * 4 + ["test"] * 4
    assert rows[0]["image_id"] == "custom:v/1a.jpg" and rows[1]["modality"] == "infrared"
    assert {r["label"] for r in rows if r["split"] == "train"} == {0, 1}


def test_check_lists_counts_and_the_query_gallery_make_up(tmp_path):
    report = check_dataset("custom", make_root(tmp_path, GOOD))
    assert report.ok
    text = report.table()
    assert "query: 2 images of 2 identities (visible 1, infrared 1)" in text
    assert "cameras in both query and gallery: 1, 2" in text


def test_every_bad_row_is_one_line_with_its_line_number_and_path(tmp_path):
    lines = GOOD + ["v/missing.jpg,3,1,visible,train",          # line 10: file absent
                    "v/3b.jpg,three,1,visible,train",            # line 11: pid
                    "v/3c.jpg,3,1,rgb,train",                    # line 12: modality
                    "v/3d.jpg,3,1,visible,test",                 # line 13: split
                    "../outside.jpg,3,1,visible,train",          # line 14: leaves the root
                    "v/1a.jpg,1,1,visible,train",                # line 15: duplicate
                    "v/3e.jpg,3,1,visible,query,",               # trial column absent: fine
                    ]
    images = [line.split(",")[0] for line in GOOD] + ["v/3b.jpg", "v/3c.jpg", "v/3d.jpg", "v/3e.jpg"]
    root = make_root(tmp_path, lines, images)
    problems = check_dataset("custom", root, decode=False).problems
    joined = "\n".join(problems)
    assert f"index.csv line 10: {root / 'v/missing.jpg'}: image file not found" in problems
    assert "line 11:" in joined and "pid 'three' is not a non-negative integer" in joined
    assert "line 12:" in joined and "modality 'rgb' is not one of visible, infrared" in joined
    assert "line 13:" in joined and "split 'test' is not one of train, query, gallery" in joined
    assert "line 14:" in joined and "points outside the dataset root" in joined
    assert f"line 15: {root / 'v/1a.jpg'}: already listed on line 2" in joined
    # identity 3's only valid row is a query without any infrared gallery image
    assert "query identity 3 (visible) has no infrared gallery image" in joined
    with pytest.raises(DatasetError):
        build_index("custom", root)


def test_identity_rules_between_rows(tmp_path):
    lines = GOOD + ["v/9a.jpg,9,1,visible,train", "v/7t.jpg,7,1,visible,train"]
    problems = "\n".join(check_dataset("custom", make_root(tmp_path, lines), decode=False).problems)
    assert "training identity 9 has visible images only" in problems
    assert "identity 7 is both a train and a query/gallery identity" in problems


def test_missing_columns_and_missing_index_are_one_line_each(tmp_path):
    root = tmp_path / "empty"
    root.mkdir()
    assert check_dataset("custom", root).problems == [
        f"{root / 'index.csv'}: index file not found (a custom dataset lists its images in "
        "index.csv or index.parquet: path, pid, camera, modality, split[, trial])"]
    (root / "index.csv").write_text("path,pid,cam\n")
    [problem] = check_dataset("custom", root).problems
    assert "missing column(s) camera, modality, split" in problem


def test_parquet_index_and_gallery_trials(tmp_path):
    root = make_root(tmp_path, GOOD)
    (root / "index.csv").unlink()
    rows = [dict(zip(HEADER.split(","), line.split(","))) for line in GOOD]
    for r in rows:
        r["pid"], r["camera"] = int(r["pid"]), int(r["camera"])
        r["trial"] = 1 if r["split"] == "gallery" else None
    rows[0]["trial"] = 2                                     # a train row with a trial
    pq.write_table(pa.Table.from_pylist(rows), root / "index.parquet")
    index = read_index(root)
    assert index.problems[0] == (f"index.parquet row 1: {root / 'v/1a.jpg'}: trial 2 on a train row "
                                 "(trials select gallery rows only)")
    assert "training identity 1 has infrared images only" in index.problems[1]  # its row was refused
    assert {r.trial for r in index.rows if r.split == "gallery"} == {1}
