"""The stage model: one small decoder-only Llama for the whole cast."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from transformers import (
    LlamaConfig,
    LlamaForCausalLM,
    PreTrainedModel,
    PreTrainedTokenizerFast,
)
from transformers.utils import logging as hf_logging

from agents.promptbook import EOT_TOKEN


@dataclass
class ModelConfig:
    """The shape of the stage model; the vocabulary comes from the tokenizer."""

    block_size: int = 512  # context length in tokens
    n_layer: int = 6  # transformer blocks
    n_head: int = 6  # attention heads
    n_kv_head: int = 6  # key/value heads (fewer than n_head: grouped-query attention)
    n_embd: int = 384  # hidden size
    mlp_ratio: float = 8 / 3  # width of the SwiGLU feed-forward, times n_embd
    dropout: float = 0.1  # attention dropout (Llama has no residual dropout)
    tie_embeddings: bool = (
        True  # share input and output embeddings (saves vocab x n_embd)
    )
    rope_theta: float = 10000.0  # base of the rotary position embedding


def llama_config(
    config: ModelConfig, tokenizer: PreTrainedTokenizerFast
) -> LlamaConfig:
    """Return the transformers config of a stage model for `tokenizer`'s vocabulary."""
    intermediate = int(config.mlp_ratio * config.n_embd + 63) // 64 * 64
    eot = tokenizer.convert_tokens_to_ids(EOT_TOKEN)
    return LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=config.n_embd,
        intermediate_size=intermediate,
        num_hidden_layers=config.n_layer,
        num_attention_heads=config.n_head,
        num_key_value_heads=config.n_kv_head,
        max_position_embeddings=config.block_size,
        attention_dropout=config.dropout,
        tie_word_embeddings=config.tie_embeddings,
        rope_parameters={"rope_type": "default", "rope_theta": config.rope_theta},
        pad_token_id=tokenizer.pad_token_id,
        bos_token_id=None,
        eos_token_id=eot,
    )


def build_model(
    config: ModelConfig, tokenizer: PreTrainedTokenizerFast
) -> LlamaForCausalLM:
    """Return a freshly initialised stage model (seed torch first to repeat weights)."""
    return LlamaForCausalLM(llama_config(config, tokenizer))


def count_parameters(model: LlamaForCausalLM) -> int:
    """Return the number of distinct trainable parameters (tied weights count once)."""
    return sum(p.numel() for p in model.parameters())


@contextmanager
def quiet_progress() -> Iterator[None]:
    """Hide transformers' own progress bars (weights loading and saving) for a while."""
    shown = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        if shown:
            hf_logging.enable_progress_bar()


def save_model(model: PreTrainedModel, directory: str | Path) -> None:
    """Write `model` as config.json and model.safetensors."""
    with quiet_progress():
        model.save_pretrained(str(directory))
