"""LLCM protocol lists: both directions with query and gallery truly swapped, seeded galleries."""

from vireid.evaluation import llcm_gallery, llcm_query

from .conftest import LLCM_TEST_IDS


def test_ir_to_vis_queries_every_nir_image_and_samples_one_vis_per_id_camera(tiny_llcm_root):
    q = llcm_query(tiny_llcm_root, "ir2vis")
    g = llcm_gallery(tiny_llcm_root, "ir2vis", trial=0)
    assert len(q) == len(LLCM_TEST_IDS) * 3 * 2 and q.modality == "infrared"
    assert all(p.startswith("test_nir/") for p in q.paths)
    assert len(g) == len(LLCM_TEST_IDS) * 4 and g.modality == "visible"
    assert list(zip(g.pids.tolist(), g.cams.tolist())) == [
        (pid, cam) for pid in LLCM_TEST_IDS for cam in (1, 2, 3, 5)]


def test_vis_to_ir_swaps_the_sets_instead_of_transposing(tiny_llcm_root):
    q = llcm_query(tiny_llcm_root, "vis2ir")
    g = llcm_gallery(tiny_llcm_root, "vis2ir", trial=0)
    assert all(p.startswith("test_vis/") for p in q.paths) and len(q) == len(LLCM_TEST_IDS) * 4 * 3
    assert all(p.startswith("test_nir/") for p in g.paths) and len(g) == len(LLCM_TEST_IDS) * 3


def test_galleries_are_reproducible_per_trial(tiny_llcm_root):
    a = llcm_gallery(tiny_llcm_root, "vis2ir", trial=7).paths
    assert a == llcm_gallery(tiny_llcm_root, "vis2ir", trial=7).paths
    assert any(llcm_gallery(tiny_llcm_root, "vis2ir", trial=t).paths != a for t in range(7))
