"""Random-weight LLaVA checkpoints, built offline from a registry of sizes.

Tests, the demo and the benchmark need a captioner without downloading 7B weights. These
models have the same classes and files as ``llava-hf/llava-1.5-7b-hf`` (LlavaForConditionalGeneration,
LlavaProcessor with a CLIP image processor and a fast tokenizer, a chat template), so they
are loaded through exactly the same code path as a real checkpoint. ``"tiny"`` runs anywhere
in seconds; ``"llava-1.5-7b"`` has the real model's shapes (7.06 B parameters, 336-pixel
CLIP ViT-L/14 tower, 32-layer Llama) for GPU throughput measurements. The vocabulary is
ordinary English words, so random captions are at least readable word sequences.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from vireid.captioning.prompts import LLAVA_CHAT_TEMPLATE

IMAGE_TOKEN = "<image>"
_SPECIALS = ("<pad>", "<unk>", "<s>", "</s>", IMAGE_TOKEN)

# Words for the prompt format and instruction plus a pedestrian-description vocabulary.
_WORDS = """
user assistant : . , ? ! ' please describe the characteristics of pedestrian image
a an and with in on at is are wearing wears holding carrying walking standing person man
woman boy girl adult young old short long hair haired black white grey gray dark light red
blue green yellow brown pink purple orange beige striped plain jacket coat shirt t-shirt
sweater hoodie dress skirt trousers pants jeans shorts shoes sneakers boots bag backpack
handbag umbrella hat cap glasses scarf sleeves sleeved tall slim his her their left right
side front back view camera infrared thermal photo picture street background bright dim
""".split()


def tiny_vocabulary() -> list[str]:
    """Special tokens first (fixed ids), then the words, de-duplicated in order."""
    seen: dict[str, None] = dict.fromkeys(_SPECIALS)
    for word in _WORDS:
        seen.setdefault(word, None)
    return list(seen)


def _build_tokenizer():
    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    vocab = {word: i for i, word in enumerate(tiny_vocabulary())}
    tok = Tokenizer(models.WordLevel(vocab=vocab, unk_token="<unk>"))
    # Lower-casing lets "USER:" and "Please" map onto the word list; special tokens are
    # added tokens and bypass the normaliser.
    tok.normalizer = normalizers.Lowercase()
    tok.pre_tokenizer = pre_tokenizers.Sequence(
        [pre_tokenizers.WhitespaceSplit(), pre_tokenizers.Punctuation()]
    )
    tok.decoder = decoders.WordPiece(prefix="##", cleanup=True)  # joins words with spaces
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok,
        bos_token="<s>",
        eos_token="</s>",
        unk_token="<unk>",
        pad_token="<pad>",
        extra_special_tokens=None,
        model_max_length=512,
    )
    fast.add_special_tokens({"additional_special_tokens": [IMAGE_TOKEN]})
    fast.padding_side = "left"
    return fast


@dataclass(frozen=True)
class RandomLlavaSize:
    """Architecture of a random LLaVA: CLIP vision tower, Llama language model, projector."""

    vision_hidden: int
    vision_intermediate: int
    vision_layers: int
    vision_heads: int
    vision_projection: int
    image_size: int
    patch_size: int
    text_hidden: int
    text_intermediate: int
    text_layers: int
    text_heads: int
    max_positions: int
    rms_norm_eps: float = 1e-6
    vocab_size: int | None = None   # None: the word vocabulary; LLaVA-1.5 pads its to 32,064


RANDOM_LLAVA_SIZES: dict[str, RandomLlavaSize] = {
    "tiny": RandomLlavaSize(64, 128, 2, 4, 64, 56, 14, 64, 128, 2, 4, 512),
    "llava-1.5-7b": RandomLlavaSize(1024, 4096, 24, 16, 768, 336, 14, 4096, 11008, 32, 32, 4096,
                                    rms_norm_eps=1e-5, vocab_size=32064),
}


def random_llava_config(size: str = "tiny"):
    """(LlavaConfig, tokenizer) of a registered size."""
    from transformers import CLIPVisionConfig, LlamaConfig, LlavaConfig

    if size not in RANDOM_LLAVA_SIZES:
        raise ValueError(f"unknown random LLaVA size {size!r}; choose from {', '.join(RANDOM_LLAVA_SIZES)}")
    spec = RANDOM_LLAVA_SIZES[size]
    tokenizer = _build_tokenizer()
    vision = CLIPVisionConfig(hidden_size=spec.vision_hidden, intermediate_size=spec.vision_intermediate,
                              num_hidden_layers=spec.vision_layers, num_attention_heads=spec.vision_heads,
                              image_size=spec.image_size, patch_size=spec.patch_size,
                              projection_dim=spec.vision_projection, hidden_act="quick_gelu")
    text = LlamaConfig(vocab_size=spec.vocab_size or len(tokenizer), hidden_size=spec.text_hidden,
                       intermediate_size=spec.text_intermediate, num_hidden_layers=spec.text_layers,
                       num_attention_heads=spec.text_heads, num_key_value_heads=spec.text_heads,
                       max_position_embeddings=spec.max_positions, rms_norm_eps=spec.rms_norm_eps,
                       pad_token_id=tokenizer.pad_token_id, bos_token_id=tokenizer.bos_token_id,
                       eos_token_id=tokenizer.eos_token_id, tie_word_embeddings=False)
    config = LlavaConfig(vision_config=vision, text_config=text,
                         image_token_index=tokenizer.convert_tokens_to_ids(IMAGE_TOKEN),
                         vision_feature_layer=-2, vision_feature_select_strategy="default",
                         projector_hidden_act="gelu")
    return config, tokenizer


@contextmanager
def _default_dtype(dtype):
    import torch

    saved = torch.get_default_dtype()
    torch.set_default_dtype(dtype)
    try:
        yield
    finally:
        torch.set_default_dtype(saved)


def build_random_llava(out_dir: str | Path, size: str = "tiny", seed: int = 0, device: str = "cpu",
                       dtype=None) -> Path:
    """Write a random LLaVA (model + processor) of ``size`` to ``out_dir`` and return the path.

    The same ``seed`` gives the same weights, so captions are reproducible across runs. The
    weights are created directly on ``device`` in ``dtype`` (default float32): a 7B model
    built in bfloat16 on a GPU never needs 28 GB of float32 host memory.
    """
    import torch
    from transformers import CLIPImageProcessor, LlavaForConditionalGeneration, LlavaProcessor

    from vireid.progress import quiet_library_bars

    quiet_library_bars()  # "Writing model shards" is transformers' own bar

    config, tokenizer = random_llava_config(size)
    spec = RANDOM_LLAVA_SIZES[size]
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(seed)
    with torch.device(device), _default_dtype(dtype or torch.float32):
        model = LlavaForConditionalGeneration(config).eval()
    # Random weights rarely emit EOS; scale up the output layer so greedy decoding has
    # clear winners (no near-ties that would make batched and single runs disagree).
    with torch.no_grad():
        model.lm_head.weight.mul_(8.0)
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    model.generation_config.bos_token_id = tokenizer.bos_token_id
    model.generation_config.eos_token_id = tokenizer.eos_token_id
    model.save_pretrained(out)
    del model

    image_processor = CLIPImageProcessor(
        size={"shortest_edge": spec.image_size},
        crop_size={"height": spec.image_size, "width": spec.image_size},
        do_center_crop=True,
        image_mean=[0.48145466, 0.4578275, 0.40821073],
        image_std=[0.26862954, 0.26130258, 0.27577711],
    )
    processor = LlavaProcessor(image_processor=image_processor, tokenizer=tokenizer,
                               patch_size=spec.patch_size, vision_feature_select_strategy="default",
                               chat_template=LLAVA_CHAT_TEMPLATE, image_token=IMAGE_TOKEN,
                               num_additional_image_tokens=1)
    processor.save_pretrained(out)
    return out


def build_tiny_llava(out_dir: str | Path, seed: int = 0) -> Path:
    """The ``"tiny"`` random LLaVA (CPU-sized: tests, the demo, ``vireid captions tiny-model``)."""
    return build_random_llava(out_dir, "tiny", seed)
