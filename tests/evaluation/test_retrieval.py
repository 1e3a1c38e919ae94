"""cross_modality_map: infrared queries against visible gallery on arbitrary arrays."""

import numpy as np
import pytest
import torch

from vireid.evaluation import EvaluationError, cross_modality_map


def test_separable_features_retrieve_perfectly_and_report_counts():
    pids = np.array([0, 0, 1, 1, 0, 1])
    feats = np.eye(2)[pids] + 0.01 * np.arange(6)[:, None]
    mods = ["visible", "visible", "visible", "visible", "infrared", "infrared"]
    out = cross_modality_map(torch.tensor(feats), torch.tensor(pids), np.ones(6), mods)
    assert out["R1"] == 1 and out["mAP"] == pytest.approx(1) and out["mINP"] == pytest.approx(1)
    assert (out["num_query"], out["num_gallery"], out["num_valid"]) == (2, 4, 2)


def test_one_modality_only_is_an_error():
    with pytest.raises(EvaluationError, match="0 infrared"):
        cross_modality_map(np.ones((2, 3)), [0, 1], [1, 1], ["visible", "visible"])
