"""Build tiny, briefly trained checkpoints in a directory, for tests and benchmarks."""

from __future__ import annotations

import warnings
from pathlib import Path

import torch
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

from agents.promptbook import (
    EOT_TOKEN,
    PAD_TOKEN,
    ScriptLine,
    render_header,
    render_line,
    special_tokens,
)

STAGE_CAST = ("kenzaki", "tachibana", "hajime", "mutsuki")
STAGE_HEADING = "INT. BOARD LABORATORY - NIGHT. The alarm rings; an Undead is loose."
STAGE_LINES = [
    ScriptLine(
        "kenzaki", "I will fight so that nobody else gets hurt.", "determination"
    ),
    ScriptLine("tachibana", "Kenzaki, the Rouse Absorber is not ready yet.", "fear"),
    ScriptLine("hajime", "Stay out of my way. This one is mine.", "anger"),
    ScriptLine("mutsuki", "Why does nobody listen to me?", "sadness"),
    ScriptLine("kenzaki", "We did it! The card is sealed.", "joy"),
    ScriptLine("tachibana", "Breathe. Think before you transform.", "calm"),
    ScriptLine("hajime", "You again? I did not expect that.", "surprise"),
    ScriptLine("narrator", "The lights of the laboratory flicker.", "calm"),
]

CHAT_TEMPLATE = (
    "{{ bos_token }}{% for message in messages %}"
    "{% if message['role'] not in ['system', 'user', 'assistant'] %}"
    "{{ raise_exception('Unknown role: ' + message['role']) }}{% endif %}"
    "<|{{ message['role'] }}|>{{ message['content'] }}{{ eos_token }}"
    "{% endfor %}{% if add_generation_prompt %}<|assistant|>{% endif %}"
)
CHAT_SPECIALS = ["<s>", "</s>", "<pad>", "<|system|>", "<|user|>", "<|assistant|>"]
CHAT_TURNS = [
    ("Who are you?", "I am Kenzaki, a rider who fights the Undead."),
    ("What is the Rouse Absorber?", "A device that lets Blade use Jack Form."),
    ("Where is Hajime?", "He runs the cafe Jacaranda with Amane."),
    ("Is the fight over?", "Not yet. One more Undead is loose tonight."),
]


def _train_tokenizer(texts: list[str], specials: list[str], size: int) -> Tokenizer:
    """Return a byte-level BPE tokenizer trained on `texts` with `specials`."""
    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=size,
        special_tokens=specials,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tokenizer.train_from_iterator(texts, trainer)
    return tokenizer


def _tiny_llama(tokenizer: PreTrainedTokenizerFast, hidden: int, layers: int):
    """Return a freshly initialised tiny Llama sized for `tokenizer`."""
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=hidden,
        intermediate_size=hidden * 2,
        num_hidden_layers=layers,
        num_attention_heads=max(4, hidden // 64),
        num_key_value_heads=max(4, hidden // 64),
        max_position_embeddings=512,
        pad_token_id=tokenizer.pad_token_id,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        tie_word_embeddings=True,
    )
    return LlamaForCausalLM(config)


def _fit(model, tokenizer, texts: list[str], steps: int) -> None:
    """Train `model` for `steps` full-batch steps of next-token prediction on `texts`."""
    batch = tokenizer(texts, padding=True, return_tensors="pt")
    labels = batch["input_ids"].masked_fill(batch["attention_mask"] == 0, -100)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-2)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny matrices; extra threads only wait on busy CPUs
    model.train()
    try:
        for _ in range(steps):
            loss = model(**batch, labels=labels).loss
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    finally:
        torch.set_num_threads(threads)
    model.eval()


def build_stage_model(
    directory: Path,
    hidden: int = 64,
    layers: int = 2,
    steps: int = 60,
    seed: int = 0,
) -> Path:
    """Save a tiny prompt-book stage model in `directory` and return the directory.

    The tokenizer carries `promptbook.special_tokens(STAGE_CAST)`; the model is
    trained for `steps` steps on cues of `STAGE_LINES`, so it speaks the format.
    """
    torch.manual_seed(seed)
    specials = special_tokens(list(STAGE_CAST))
    sentences = [line.text for line in STAGE_LINES] + [STAGE_HEADING]
    fast = PreTrainedTokenizerFast(
        tokenizer_object=_train_tokenizer(sentences, specials, 400),
        pad_token=PAD_TOKEN,
        eos_token=EOT_TOKEN,
        extra_special_tokens=[t for t in specials if t not in (PAD_TOKEN, EOT_TOKEN)],
    )
    model = _tiny_llama(fast, hidden, layers)
    scenes = [STAGE_LINES[i:] + STAGE_LINES[:i] for i in range(len(STAGE_LINES))]
    texts = [
        render_header(STAGE_HEADING) + "".join(render_line(x) + "\n" for x in lines)
        for lines in scenes
    ]
    _fit(model, fast, texts, steps)
    directory.mkdir(parents=True, exist_ok=True)
    fast.save_pretrained(directory)
    model.save_pretrained(directory, safe_serialization=True)
    return directory


def build_chat_model(
    directory: Path,
    chat_template: bool = True,
    hidden: int = 64,
    layers: int = 2,
    steps: int = 60,
    seed: int = 0,
) -> Path:
    """Save a tiny chat checkpoint (with a jinja chat template unless told not to)."""
    torch.manual_seed(seed)
    sentences = [text for turn in CHAT_TURNS for text in turn]
    fast = PreTrainedTokenizerFast(
        tokenizer_object=_train_tokenizer(sentences, CHAT_SPECIALS, 400),
        bos_token="<s>",
        eos_token="</s>",
        pad_token="<pad>",
        extra_special_tokens=CHAT_SPECIALS[3:],
    )
    fast.chat_template = CHAT_TEMPLATE
    texts = [
        fast.apply_chat_template(
            [{"role": "user", "content": q}, {"role": "assistant", "content": a}],
            tokenize=False,
        )
        for q, a in CHAT_TURNS
    ]
    model = _tiny_llama(fast, hidden, layers)
    _fit(model, fast, texts, steps)
    if not chat_template:
        fast.chat_template = None
    directory.mkdir(parents=True, exist_ok=True)
    fast.save_pretrained(directory)
    model.save_pretrained(directory, safe_serialization=True)
    return directory


def build_lora_adapter(base: Path, directory: Path, seed: int = 0) -> Path:
    """Save a LoRA adapter for the checkpoint at `base`, with non-zero weights."""
    from peft import LoraConfig, get_peft_model

    torch.manual_seed(seed)
    model = LlamaForCausalLM.from_pretrained(base, local_files_only=True)
    config = LoraConfig(
        r=8,
        lora_alpha=32,
        target_modules=["q_proj", "v_proj", "down_proj"],
        init_lora_weights=False,  # random A and B, so the adapter changes outputs
    )
    with warnings.catch_warnings():
        # peft still calls a transformers property deprecated for v6.
        warnings.filterwarnings("ignore", ".*is_gradient_checkpointing")
        peft_model = get_peft_model(model, config)
    directory.mkdir(parents=True, exist_ok=True)
    peft_model.save_pretrained(directory)
    return directory
