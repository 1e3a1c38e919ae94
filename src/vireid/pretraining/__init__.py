"""Contrastive image-text pretraining of the tiny CLIP family on a synthetic "web" corpus.

``vireid pretrain`` (docs/pretrain.md): a disjoint world of people, web-style captions, the
standard CLIP objective, and the result saved as an OpenAI-format CLIP state dict that
``model.pretrained = "synthetic-web"`` loads through the same path as a local ``RN50.pt``.

Nothing is imported here: ``vireid.cli`` registers ``vireid pretrain`` without loading torch.
"""
