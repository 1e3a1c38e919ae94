"""A tiny random-weight LLaVA checkpoint, built offline.

Tests, the demo and the benchmark need a captioner without downloading 7B weights. The tiny
model has the same classes and files as ``llava-hf/llava-1.5-7b-hf`` (LlavaForConditionalGeneration,
LlavaProcessor with a CLIP image processor and a fast tokenizer, a chat template), so it is
loaded through exactly the same code path as a real checkpoint. Its vocabulary is ordinary
English words, so its random captions are at least readable word sequences.
"""

from __future__ import annotations

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


def build_tiny_llava(out_dir: str | Path, seed: int = 0, image_size: int = 56,
                     patch_size: int = 14) -> Path:
    """Write a tiny random LLaVA (model + processor) to ``out_dir`` and return the path.

    The same ``seed`` gives the same weights, so captions are reproducible across runs.
    """
    import torch
    from transformers import (
        CLIPImageProcessor,
        CLIPVisionConfig,
        LlamaConfig,
        LlavaConfig,
        LlavaForConditionalGeneration,
        LlavaProcessor,
    )

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    tokenizer = _build_tokenizer()
    vocab_size = len(tokenizer)
    image_token_id = tokenizer.convert_tokens_to_ids(IMAGE_TOKEN)

    vision = CLIPVisionConfig(hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                              num_attention_heads=4, image_size=image_size, patch_size=patch_size,
                              projection_dim=64)
    text = LlamaConfig(vocab_size=vocab_size, hidden_size=64, intermediate_size=128,
                       num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=4,
                       max_position_embeddings=512, pad_token_id=tokenizer.pad_token_id,
                       bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id,
                       tie_word_embeddings=False)
    config = LlavaConfig(vision_config=vision, text_config=text, image_token_index=image_token_id,
                         vision_feature_layer=-2, vision_feature_select_strategy="default",
                         projector_hidden_act="gelu")

    torch.manual_seed(seed)
    model = LlavaForConditionalGeneration(config).eval()
    # Random weights rarely emit EOS; scale up the output layer so greedy decoding has
    # clear winners (no near-ties that would make batched and single runs disagree).
    with torch.no_grad():
        model.lm_head.weight.mul_(8.0)
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    model.generation_config.bos_token_id = tokenizer.bos_token_id
    model.generation_config.eos_token_id = tokenizer.eos_token_id
    model.save_pretrained(out)

    image_processor = CLIPImageProcessor(
        size={"shortest_edge": image_size},
        crop_size={"height": image_size, "width": image_size},
        do_center_crop=True,
        image_mean=[0.48145466, 0.4578275, 0.40821073],
        image_std=[0.26862954, 0.26130258, 0.27577711],
    )
    processor = LlavaProcessor(image_processor=image_processor, tokenizer=tokenizer,
                               patch_size=patch_size, vision_feature_select_strategy="default",
                               chat_template=LLAVA_CHAT_TEMPLATE, image_token=IMAGE_TOKEN,
                               num_additional_image_tokens=1)
    processor.save_pretrained(out)
    return out
