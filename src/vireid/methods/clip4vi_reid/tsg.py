"""TSG (text semantic generation), the preparatory stage: identity texts from VISIBLE images only.

The abstract: "the TSG is designed to generate text semantics only for visible images,
thereby enabling preliminary visible-text modality alignment". Two sources:

``prompts``  one learned prompt per identity ("A photo of a X X X X person.", CLIP-ReID
             stage 1): image and text encoders frozen, the context tokens are fitted with the
             label-aware image-text contrastive loss to the un-augmented features of the
             VISIBLE training images only; infrared images take no part. Progress is saved
             after every epoch.
``captions`` the captions of the visible training images, encoded by the (frozen) text
             encoder and averaged per identity (:func:`identity_prototypes`). Infrared
             captions are never read (the method asks the trainer for visible captions only).
             Progress is saved after every chunk of captions.

Output: ``class_text`` [C, D] (the identity text semantics, fixed targets of the main stage
or the starting point of HSA), ``ctx`` (prompts only) and ``history``.
"""

from __future__ import annotations

from typing import Any

import torch
from tqdm.auto import tqdm

from vireid.errors import VireidError
from vireid.methods.base import Stage, StageContext
from vireid.methods.clip4vi_reid.config import TSGStageConfig
from vireid.methods.clip4vi_reid.losses import identity_prototypes
from vireid.methods.prompt_fitting import fit_prompts, frozen
from vireid.models.prompt_learner import PromptLearner
from vireid.tokenizer import tokenize


class TSGStage(Stage):
    name = "tsg"

    def __init__(self, cfg: TSGStageConfig, source: str, temperature: float):
        self.cfg = cfg
        self.source = source
        self.temperature = temperature

    def fingerprint_config(self) -> dict[str, Any]:
        stage = vars(self.cfg) if self.source == "prompts" else {"caption_batch_size": self.cfg.caption_batch_size}
        return {"source": self.source, "stage": dict(stage), "temperature": self.temperature}

    def run(self, context: StageContext, previous: dict[str, dict[str, Any]]) -> dict[str, Any]:
        model = context.model
        with frozen(model.text):
            if self.source == "prompts":
                return self._prompts(context)
            return self._captions(context)

    # -- prompts -------------------------------------------------------------------------------
    def _prompts(self, context: StageContext) -> dict[str, Any]:
        cfg, dev, model = self.cfg, context.device, context.model
        visible = torch.from_numpy(context.modalities == "visible")
        if not bool(visible.any()):
            raise VireidError("clip4vi-reid TSG: the training data has no visible images")
        learner = PromptLearner(context.num_classes, model, n_ctx=cfg.n_ctx).to(dev)
        feats = context.image_features("proj")[visible.to(dev)].float()
        labels = torch.from_numpy(context.labels)[visible].to(dev)
        history = fit_prompts(context, learner, feats, labels, cfg, self.temperature,
                              title="TSG stage", loss_key="tsg", config_key="clip4vi-reid.stage")
        class_text = learner.class_text_features().float()
        return {"ctx": learner.ctx.detach().cpu(), "class_text": class_text.cpu(), "history": history}

    # -- captions ------------------------------------------------------------------------------
    def _captions(self, context: StageContext) -> dict[str, Any]:
        if context.captions is None:
            raise VireidError("clip4vi-reid TSG (captions): the trainer gave no captions")
        model, dev = context.model, context.device
        visible = context.modalities == "visible"
        rows = [i for i in range(len(context.captions)) if visible[i]]
        # identities without a visible image (none in the standard benchmarks) fall back to
        # their other rows, which hold the template caption
        labels = torch.from_numpy(context.labels)
        present = set(labels[torch.from_numpy(visible)].tolist())
        rows += [i for i in range(len(context.captions)) if not visible[i] and int(labels[i]) not in present]
        chunks = [rows[i:i + self.cfg.caption_batch_size] for i in range(0, len(rows), self.cfg.caption_batch_size)]
        done: list[torch.Tensor] = []
        saved = context.load_progress()
        if saved is not None:
            done = list(saved["features"])
            context.log(f"TSG stage: resumed after caption chunk {len(done)}/{len(chunks)}")
        model.eval()
        for chunk in tqdm(chunks[len(done):], desc="TSG captions (visible only)", unit="chunk", leave=False,
                          disable=not context.progress):
            tokens = tokenize([context.captions[i] for i in chunk], model.text.context_length).to(dev)
            with torch.no_grad(), context.autocast():
                done.append(model.encode_text(tokens).float().cpu())
            context.save_progress({"features": list(done)})
        feats = torch.cat(done) if done else torch.zeros(0, 1)
        index = torch.tensor(rows, dtype=torch.long)
        use = torch.from_numpy(visible)[index]
        class_text = identity_prototypes(feats, labels[index], context.num_classes, use=use)
        return {"class_text": class_text, "history": [{"captions": len(rows), "chunks": len(chunks)}]}
