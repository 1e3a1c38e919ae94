"""Prompts: the paper's instruction wrapped in the model's chat format."""

from __future__ import annotations

from typing import Any

DEFAULT_INSTRUCTION = "Please describe the characteristics of the pedestrian image"
"""The request the EEES paper sends to LLaVA for every pedestrian image (ESE, step 1)."""

LLAVA_FORMAT = "USER: <image>\n{instruction} ASSISTANT:"
"""LLaVA-1.5's conversation format, used when a processor has no chat template."""

# Renders a conversation the way LLaVA-1.5 was trained: "USER: <image>\n<text> ASSISTANT:".
# Written for the tiny test model so it exercises the chat-template path like the real one.
LLAVA_CHAT_TEMPLATE = (
    "{% for message in messages %}"
    "{% if message['role'] == 'user' %}USER: {% else %}ASSISTANT: {% endif %}"
    "{% if message['content'] is string %}{{ message['content'] }}"
    "{% else %}"
    "{% for item in message['content'] %}"
    "{% if item['type'] == 'image' %}<image>\n{% elif item['type'] == 'text' %}{{ item['text'] }}{% endif %}"
    "{% endfor %}"
    "{% endif %}"
    "{% if message['role'] == 'user' %} {% else %}</s>{% endif %}"
    "{% endfor %}"
    "{% if add_generation_prompt %}ASSISTANT:{% endif %}"
)


def build_prompt(processor: Any, instruction: str) -> str:
    """The full text prompt for one image and ``instruction``.

    Uses the processor's chat template when it has one (so a checkpoint with a different
    conversation format still gets the right one), otherwise LLaVA-1.5's plain format.
    """
    if getattr(processor, "chat_template", None):
        conversation = [{"role": "user",
                         "content": [{"type": "image"}, {"type": "text", "text": instruction}]}]
        return processor.apply_chat_template(conversation, add_generation_prompt=True,
                                             tokenize=False).strip()
    return LLAVA_FORMAT.format(instruction=instruction)
