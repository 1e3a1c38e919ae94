"""Specification of the cross-modality P x K identity sampler."""

import math

import numpy as np
import pytest

from vireid.errors import DataLimitError, VireidError
from vireid.training.sampler import CrossModalitySampler


def _rows(counts_vis, counts_ir):
    labels, mods = [], []
    for label, n in enumerate(counts_vis):
        labels += [label] * n
        mods += ["visible"] * n
    for label, n in enumerate(counts_ir):
        labels += [label] * n
        mods += ["infrared"] * n
    return np.array(labels), np.array(mods)


@pytest.fixture
def data():
    # 10 identities; identity 3 has only 2 infrared images (sampled with replacement).
    vis = [6, 5, 7, 4, 8, 5, 6, 5, 4, 6]
    ir = [4, 3, 5, 2, 4, 4, 3, 4, 5, 4]
    return _rows(vis, ir)


def test_every_batch_has_p_identities_with_k_images_per_modality(data):
    labels, mods = data
    sampler = CrossModalitySampler(labels, mods, batch_ids=4, per_modality=3, seed=0)
    for batch in sampler.epoch_batches(0):
        assert len(batch.visible) == len(batch.infrared) == 12
        assert (mods[batch.visible] == "visible").all()
        assert (mods[batch.infrared] == "infrared").all()
        assert (labels[batch.visible] == batch.labels).all()
        assert (labels[batch.infrared] == batch.labels).all()
        ids, counts = np.unique(batch.labels, return_counts=True)
        assert len(ids) == 4 and (counts == 3).all()


def test_epoch_length_follows_the_larger_modality(data):
    labels, mods = data
    sampler = CrossModalitySampler(labels, mods, batch_ids=4, per_modality=3, seed=0)
    n_vis = int((mods == "visible").sum())
    assert len(sampler) == math.ceil(n_vis / 12) == len(sampler.epoch_batches(0))
    capped = CrossModalitySampler(labels, mods, 4, 3, seed=0, max_batches=2)
    assert len(capped) == 2


def test_small_identities_are_sampled_with_replacement_and_large_ones_without(data):
    labels, mods = data
    sampler = CrossModalitySampler(labels, mods, batch_ids=4, per_modality=3, seed=1)
    for batch in sampler.epoch_batches(0):
        for ident in np.unique(batch.labels):
            ir = batch.infrared[batch.labels == ident]
            if ident == 3:
                assert set(ir.tolist()) <= set(np.flatnonzero((labels == 3) & (mods == "infrared")))
            else:
                assert len(set(ir.tolist())) == 3  # no repeats when enough images exist


def test_batches_are_deterministic_per_seed_and_epoch(data):
    labels, mods = data
    a = CrossModalitySampler(labels, mods, 4, 3, seed=7).epoch_batches(2)
    b = CrossModalitySampler(labels, mods, 4, 3, seed=7).epoch_batches(2)
    c = CrossModalitySampler(labels, mods, 4, 3, seed=7).epoch_batches(3)
    d = CrossModalitySampler(labels, mods, 4, 3, seed=8).epoch_batches(2)
    key = lambda bs: [x.visible.tolist() + x.infrared.tolist() for x in bs]  # noqa: E731
    assert key(a) == key(b)
    assert key(a) != key(c)
    assert key(a) != key(d)


def test_identities_missing_a_modality_are_skipped():
    labels, mods = _rows([3, 3, 3], [3, 0, 3])
    sampler = CrossModalitySampler(labels, mods, batch_ids=2, per_modality=2, seed=0)
    assert sampler.skipped_labels == [1]
    for batch in sampler.epoch_batches(0):
        assert 1 not in batch.labels


def test_too_few_identities_for_a_batch_is_a_one_line_user_error():
    labels, mods = _rows([3, 3], [3, 3])
    with pytest.raises(DataLimitError) as info:
        CrossModalitySampler(labels, mods, batch_ids=3, per_modality=2, seed=0)
    assert isinstance(info.value, VireidError) and isinstance(info.value, ValueError)
    assert str(info.value) == ("only 2 identities have both visible and infrared training "
                               "images; a batch needs 3 (lower sampler.batch_ids)")


def test_no_infrared_training_rows_is_a_one_line_user_error_naming_the_modality():
    labels, mods = _rows([3, 3], [])
    with pytest.raises(DataLimitError, match="^the training rows have no infrared images"):
        CrossModalitySampler(labels, mods, batch_ids=1, per_modality=2, seed=0)


def test_a_non_positive_batch_size_is_a_user_error():
    labels, mods = _rows([3, 3], [3, 3])
    with pytest.raises(DataLimitError, match="batch_ids and sampler.per_modality must be >= 1"):
        CrossModalitySampler(labels, mods, batch_ids=0, per_modality=2, seed=0)


def test_shards_are_disjoint_equal_sized_and_cover_the_epoch(data):
    labels, mods = data
    shards = [CrossModalitySampler(labels, mods, 4, 3, seed=0, rank=r, world_size=3)
              for r in range(3)]
    assert len({len(s) for s in shards}) == 1
    full = shards[0].epoch_batches(0)
    assert len(full) == 3 * len(shards[0])
    seen = []
    for s in shards:
        s.set_epoch(0)
        seen += [id_ for b in s for id_ in [(b.visible.tolist(), b.infrared.tolist())]]
    expected = [(b.visible.tolist(), b.infrared.tolist()) for b in full]
    assert sorted(map(str, seen)) == sorted(map(str, expected))


def test_state_dict_resumes_mid_epoch(data):
    labels, mods = data
    first = CrossModalitySampler(labels, mods, 4, 3, seed=5)
    first.set_epoch(1)
    it = iter(first)
    consumed = [next(it) for _ in range(2)]
    state = first.state_dict()
    rest_a = [b.visible.tolist() for b in it]
    second = CrossModalitySampler(labels, mods, 4, 3, seed=5)
    second.load_state_dict(state)
    rest_b = [b.visible.tolist() for b in second]
    assert rest_a == rest_b and len(rest_a) + len(consumed) == len(first)
