"""The shared synthetic fixtures index cleanly with the real readers."""

from vireid.datasets import build_index


def test_synth_sysu_fixture_indexes(synth_sysu_root):
    table = build_index("sysu", synth_sysu_root)
    assert table.num_rows == 24 * 6 * 3


def test_synth_regdb_fixture_indexes_every_trial(synth_regdb_root):
    for trial in (1, 10):
        table = build_index("regdb", synth_regdb_root, trial=trial)
        assert table.num_rows == 24 * 2 * 3
