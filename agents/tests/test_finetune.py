"""Tests of LoRA fine-tuning on XTuner role-play conversations."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from peft import PeftModel
from transformers import AutoModelForCausalLM, AutoTokenizer

from agents.promptbook import parse_line
from agents.tests.test_training import quiet
from agents.training.finetune import FinetuneConfig, encode_conversation, finetune
from agents.training.model import ModelConfig, build_model, save_model
from agents.training.roleplay import read_jsonl, scene_conversations, write_jsonl
from agents.training.tokenizer import train_tokenizer
from agents.training.toy import toy_scenes
from agents.training.train import cast_of
from agents.training.windows import IGNORE, scene_text

QUICK = FinetuneConfig(
    rank=4, alpha=8, learning_rate=1e-2, batch_size=4, max_steps=6, max_length=400
)


@pytest.fixture(scope="module")
def base_dir(tmp_path_factory) -> Path:
    """Return a tiny randomly initialised causal LM with its tokenizer."""
    scenes = toy_scenes()
    out = tmp_path_factory.mktemp("base")
    tokenizer = train_tokenizer([scene_text(s) for s in scenes], cast_of(scenes), 400)
    torch.manual_seed(0)
    model = build_model(
        ModelConfig(block_size=512, n_layer=2, n_head=2, n_kv_head=2, n_embd=32),
        tokenizer,
    )
    save_model(model, out)
    tokenizer.save_pretrained(out)
    return out


def test_roleplay_conversations_follow_the_xtuner_format():
    scenes = toy_scenes(3)

    records = scene_conversations(scenes, ["kenzaki", "hajime"], context_lines=3)

    assert records
    for record in records:
        first, *rest = record["conversation"]
        assert set(first) == {"system", "input", "output"}
        assert all(set(turn) == {"input", "output"} for turn in rest)
        assert first["system"].startswith(("You are Kenzaki", "You are Hajime"))
        for turn in record["conversation"]:
            line = parse_line(turn["output"])
            assert line.emotion is not None and line.text
            assert turn["input"].count("\n") < 3
    spoken = {
        line.text for s in scenes for line in s.lines if line.speaker == "kenzaki"
    }
    kenzaki = [
        r for r in records if r["conversation"][0]["system"].startswith("You are K")
    ]
    answers = {parse_line(t["output"]).text for r in kenzaki for t in r["conversation"]}
    assert answers == spoken


def test_conversations_survive_a_round_trip_through_jsonl(tmp_path):
    records = scene_conversations(toy_scenes(2))
    write_jsonl(records, tmp_path / "data.jsonl")

    assert read_jsonl(tmp_path / "data.jsonl") == records


def test_reading_jsonl_names_the_bad_line(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text(
        '{"conversation": [{"input": "hi", "output": "yo"}]}\n{"turns": []}\n'
    )

    with pytest.raises(ValueError, match=r"bad.jsonl:2: expected"):
        read_jsonl(path)


def test_only_the_outputs_are_targets_in_plain_and_chat_formats(base_dir):
    tokenizer = AutoTokenizer.from_pretrained(str(base_dir), local_files_only=True)
    record = {
        "conversation": [
            {"system": "You are Kenzaki.", "input": "Hi.", "output": "[joy] Hello!"},
            {"input": "Ready?", "output": "[determination] Always."},
        ]
    }
    for template in (
        None,
        "{% for m in messages %}<{{ m.role }}>{{ m.content }}\n"
        "{% endfor %}{% if add_generation_prompt %}<assistant>{% endif %}",
    ):
        tokenizer.chat_template = template

        ids, labels = encode_conversation(tokenizer, record, 512)

        targets = tokenizer.decode(
            [i for i, lab in zip(ids, labels, strict=True) if lab != IGNORE]
        )
        assert "Hello!" in targets and "Always." in targets
        assert "Kenzaki" not in targets and "Ready?" not in targets


def test_lora_finetune_changes_the_outputs_and_the_adapter_loads_back(
    base_dir, tmp_path
):
    records = scene_conversations(toy_scenes(), ["kenzaki"])

    result = finetune(base_dir, tmp_path, records, QUICK, progress=False, log=quiet)

    assert (tmp_path / "adapter_config.json").exists()
    assert (tmp_path / "adapter_model.safetensors").stat().st_size > 0
    assert read_jsonl(tmp_path / "train.jsonl") == records
    assert json.loads((tmp_path / "finetune.json").read_text())["steps"] == 6
    assert result.last_loss < result.first_loss
    tokenizer = AutoTokenizer.from_pretrained(str(base_dir), local_files_only=True)
    ids = tokenizer(
        "### Input:\nHajime: Leave me alone.\n\n### Output:\n", return_tensors="pt"
    )["input_ids"]
    base = AutoModelForCausalLM.from_pretrained(str(base_dir), local_files_only=True)
    with torch.no_grad():
        before = base(input_ids=ids).logits
        tuned = PeftModel.from_pretrained(base, str(tmp_path)).eval()
        after = tuned(input_ids=ids).logits
    assert not torch.allclose(before, after, atol=1e-4)


def test_finetune_explains_a_missing_base(tmp_path):
    with pytest.raises(FileNotFoundError, match="--base"):
        finetune(tmp_path / "nothing", tmp_path / "out", [{"conversation": []}])
