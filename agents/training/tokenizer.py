"""Byte-level BPE tokenizer with the prompt book's special tokens."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
from transformers import AutoTokenizer, PreTrainedTokenizerFast

from agents.promptbook import EOT_TOKEN, PAD_TOKEN, special_tokens


def train_tokenizer(
    texts: Iterable[str], speakers: list[str], vocab_size: int = 4096
) -> PreTrainedTokenizerFast:
    """Train a byte-level BPE tokenizer on `texts`; the special tokens stay whole."""
    specials = special_tokens(speakers)
    bpe = Tokenizer(models.BPE())
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    bpe.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=specials,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    bpe.train_from_iterator(texts, trainer=trainer)
    return PreTrainedTokenizerFast(
        tokenizer_object=bpe,
        pad_token=PAD_TOKEN,
        eos_token=EOT_TOKEN,
        additional_special_tokens=specials[1:],
        model_max_length=1 << 30,
    )


def load_tokenizer(directory: str | Path) -> PreTrainedTokenizerFast:
    """Load a tokenizer saved with `save_pretrained` from a local directory."""
    return AutoTokenizer.from_pretrained(str(directory), local_files_only=True)


def token_id(tokenizer: PreTrainedTokenizerFast, token: str) -> int:
    """Return the id of the token `token`, or raise if the vocabulary lacks it."""
    found = tokenizer.convert_tokens_to_ids(token)
    if found is None or found == tokenizer.unk_token_id:
        raise KeyError(
            f"the tokenizer has no token {token!r}; retrain it with the cast"
        )
    return found
