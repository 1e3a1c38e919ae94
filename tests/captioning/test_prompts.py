"""The paper's instruction in LLaVA-1.5's conversation format."""

from types import SimpleNamespace

from vireid.captioning.prompts import DEFAULT_INSTRUCTION, build_prompt


def test_default_instruction_is_the_papers():
    assert DEFAULT_INSTRUCTION == "Please describe the characteristics of the pedestrian image"


def test_chat_template_of_the_tiny_model_gives_llava_format(tiny_model):
    from transformers import AutoProcessor

    processor = AutoProcessor.from_pretrained(tiny_model, local_files_only=True)
    assert build_prompt(processor, "Describe him") == "USER: <image>\nDescribe him ASSISTANT:"


def test_processor_without_chat_template_falls_back_to_llava_format():
    processor = SimpleNamespace(chat_template=None)
    assert build_prompt(processor, DEFAULT_INSTRUCTION) == (
        "USER: <image>\nPlease describe the characteristics of the pedestrian image ASSISTANT:")
