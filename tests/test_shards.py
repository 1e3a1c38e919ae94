"""Shards split the image list deterministically into disjoint, complete parts."""

import pytest

from vireid.shards import resolve_shards, select_shard, shard_of


def test_shards_are_disjoint_and_cover_everything():
    ids = [f"sysu:cam1/{i:04d}.jpg" for i in range(200)]
    shares = [set(select_shard(ids, k, 3)) for k in range(3)]
    assert set().union(*shares) == set(range(200))
    assert sum(len(s) for s in shares) == 200
    assert all(len(s) > 30 for s in shares)  # roughly balanced


def test_shard_depends_on_the_id_not_the_list_order():
    ids = [f"img{i}" for i in range(50)]
    assert {ids[i] for i in select_shard(ids, 1, 4)} == \
        {ids[::-1][i] for i in select_shard(ids[::-1], 1, 4)}
    assert shard_of("img7", 4) == shard_of("img7", 4)


def test_explicit_options_win_over_launcher_env(monkeypatch):
    monkeypatch.setenv("WORLD_SIZE", "4")
    monkeypatch.setenv("RANK", "2")
    assert resolve_shards(None, None) == (2, 4)
    assert resolve_shards(3, 1) == (1, 3)


@pytest.mark.parametrize("env", [{}, {"WORLD_SIZE": "1", "RANK": "0"}])
def test_single_process_is_one_shard(monkeypatch, env):
    monkeypatch.delenv("WORLD_SIZE", raising=False)
    monkeypatch.delenv("RANK", raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    assert resolve_shards(None, None) == (0, 1)
