"""RegDB protocol lists: trial files, both directions, cameras visible=1 / thermal=2."""

import pytest

from vireid.errors import DatasetError, VireidError
from vireid.evaluation import regdb_gallery, regdb_query


def test_visible_to_thermal_queries_visible_against_thermal(tiny_regdb_root):
    q = regdb_query(tiny_regdb_root, 1, "vis2ir")
    g = regdb_gallery(tiny_regdb_root, 1, "vis2ir")
    assert q.paths[0] == "Visible/0/visible_0_0.bmp" and len(q) == 12
    assert g.paths[0] == "Thermal/0/thermal_0_0.bmp" and len(g) == 12
    assert set(q.cams.tolist()) == {1} and set(g.cams.tolist()) == {2}
    assert q.pids.tolist() == [0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 3]


def test_thermal_to_visible_swaps_the_sets(tiny_regdb_root):
    assert regdb_query(tiny_regdb_root, 2, "ir2vis").paths == regdb_gallery(tiny_regdb_root, 2, "vis2ir").paths
    assert regdb_gallery(tiny_regdb_root, 2, "ir2vis").modality == "visible"


def test_trial_and_direction_are_checked(tiny_regdb_root, tmp_path):
    with pytest.raises(VireidError, match="trial must be 1..10"):
        regdb_query(tiny_regdb_root, 0)
    with pytest.raises(VireidError, match="direction"):
        regdb_query(tiny_regdb_root, 1, "t2v")
    (tmp_path / "idx").mkdir()
    (tmp_path / "idx" / "test_visible_1.txt").write_text("only-a-path.bmp\n")
    with pytest.raises(DatasetError, match="test_visible_1.txt:1"):
        regdb_query(tmp_path, 1)
    with pytest.raises(DatasetError, match="test_thermal_1.txt"):
        regdb_gallery(tmp_path, 1)
