"""create_clip: open_clip's random-init warning only where random weights were not asked for."""

import logging

from vireid.models import TINY_MODEL_NAME, ModelConfig
from vireid.models.clip_backbone import create_clip


def test_requested_random_init_does_not_warn_and_leaves_logging_as_it_was(caplog):
    filters_before = list(logging.getLogger().filters)
    with caplog.at_level(logging.WARNING):
        create_clip(ModelConfig(name=TINY_MODEL_NAME, pretrained="none"))
    assert not [r for r in caplog.records if "pretrained" in r.getMessage()]
    assert logging.getLogger().filters == filters_before
    logging.warning("No pretrained weights loaded: a later, unrelated message")
    assert caplog.records[-1].getMessage().startswith("No pretrained weights loaded")
