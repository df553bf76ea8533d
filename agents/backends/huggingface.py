"""The `transformers` backend: a local Hugging Face causal-LM checkpoint, with LoRA."""

from __future__ import annotations

import threading
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import torch
from jinja2 import TemplateError
from transformers import AutoModelForCausalLM, AutoTokenizer, DynamicCache
from transformers.cache_utils import DynamicLayer

from agents.backends.base import (
    BackendError,
    BaseBackend,
    Generation,
    GenerationRequest,
)

TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "tokenizer.model")
DTYPES = {
    "bf16": torch.bfloat16,
    "bfloat16": torch.bfloat16,
    "fp16": torch.float16,
    "float16": torch.float16,
    "fp32": torch.float32,
    "float32": torch.float32,
}


def check_checkpoint(path: Path) -> None:
    """Raise BackendError unless `path` looks like a Hugging Face checkpoint."""
    expected = (
        "a directory holding config.json, tokenizer files (tokenizer.json or "
        "tokenizer_config.json) and weights (*.safetensors or pytorch_model.bin)"
    )
    if not path.is_dir():
        raise BackendError(
            f"No model checkpoint at {path}: expected {expected}. "
            "Check the model path option."
        )
    missing = []
    if not (path / "config.json").is_file():
        missing.append("config.json")
    if not any((path / name).is_file() for name in TOKENIZER_FILES):
        missing.append("tokenizer files (tokenizer.json or tokenizer_config.json)")
    weights = [*path.glob("*.safetensors"), *path.glob("pytorch_model*.bin")]
    if not weights:
        missing.append("weights (*.safetensors or pytorch_model.bin)")
    if missing:
        raise BackendError(
            f"The model checkpoint at {path} is incomplete: missing "
            f"{', '.join(missing)}. Expected {expected}."
        )


def pick_device(device: str = "auto") -> torch.device:
    """Return `device`, or for "auto" the best available of cuda, mps and cpu."""
    if device != "auto":
        return torch.device(device)
    if torch.cuda.is_available():
        return torch.device("cuda")
    if torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def pick_dtype(dtype: str | torch.dtype, device: torch.device) -> torch.dtype:
    """Return `dtype`, or for "auto" bf16/fp16 on a GPU and fp32 on the CPU."""
    if isinstance(dtype, torch.dtype):
        return dtype
    if dtype != "auto":
        if dtype not in DTYPES:
            raise BackendError(
                f"Unknown dtype {dtype!r}: use auto or one of {', '.join(DTYPES)}."
            )
        return DTYPES[dtype]
    if device.type == "cuda":
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    if device.type == "mps":
        return torch.float16
    return torch.float32


class PreallocatedLayer(DynamicLayer):
    """A full-attention KV cache layer writing into buffers sized for the whole run.

    transformers' DynamicLayer concatenates the cache at every token, copying all
    of it; on a CPU that copy dominates a batched decoding step.
    """

    def __init__(self, capacity: int) -> None:
        super().__init__()
        self.capacity = capacity  # prompt and generated tokens, at most
        self.length = 0  # tokens cached so far

    def lazy_initialization(self, keys: torch.Tensor, values: torch.Tensor) -> None:
        """Allocate the buffers (B, heads, capacity, head_dim) like the first states."""
        self.dtype, self.device = keys.dtype, keys.device
        batch, heads, _, _ = keys.shape
        self.key_buffer = keys.new_empty(batch, heads, self.capacity, keys.shape[-1])
        self.value_buffer = values.new_empty(
            batch, values.shape[1], self.capacity, values.shape[-1]
        )
        self.is_initialized = True

    def update(
        self, key_states: torch.Tensor, value_states: torch.Tensor, *args, **kwargs
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Write the new states after the cached ones; return views of all of them."""
        if not self.is_initialized:
            self.lazy_initialization(key_states, value_states)
        start, end = self.length, self.length + key_states.shape[-2]
        self.key_buffer[:, :, start:end] = key_states
        self.value_buffer[:, :, start:end] = value_states
        self.length = end
        self.keys = self.key_buffer[:, :, :end]
        self.values = self.value_buffer[:, :, :end]
        return self.keys, self.values

    def get_seq_length(self) -> int:
        """Return how many tokens are cached."""
        return self.length

    def batch_select_indices(self, indices: torch.Tensor) -> None:
        """Keep only the rows `indices` of the batch."""
        if self.is_initialized:
            self.key_buffer = self.key_buffer[indices]
            self.value_buffer = self.value_buffer[indices]
            self.keys = self.key_buffer[:, :, : self.length]
            self.values = self.value_buffer[:, :, : self.length]


def new_cache(model: torch.nn.Module, capacity: int) -> DynamicCache:
    """Return a KV cache for `model`, preallocated when all its layers attend fully."""
    cache = DynamicCache(config=model.config)
    if cache.layers and all(type(layer) is DynamicLayer for layer in cache.layers):
        cache.layers = [PreallocatedLayer(capacity) for _ in cache.layers]
    return cache


@dataclass
class _Row:
    """The decoding state of one request inside a (possibly batched) generation."""

    request: GenerationRequest
    generator: torch.Generator  # this row's own sampling randomness
    ids: list[int] = field(default_factory=list)  # generated ids, stop token excluded
    text: str = ""  # surface text so far, cut at a stop string
    sent: int = 0  # characters of `text` already handed out
    done: bool = False
    finish_reason: str = "length"
    first_token_at: float | None = None
    finished_at: float | None = None
    steering: object | None = None  # a subclass's own per-row decoding state


class HuggingFaceBackend(BaseBackend):
    """Any local causal-LM checkpoint directory, optionally with a LoRA adapter.

    Options: `path` (the checkpoint directory), `adapter` (a peft LoRA adapter
    directory), `device` ("auto", "cuda", "mps", "cpu"), `dtype` ("auto", "bf16",
    "fp16", "fp32"), `merge_adapter` (fold the adapter into the weights for
    speed), `assistant_name` (the reply's name when there is no chat template),
    `threads` (torch CPU threads for the whole process; on a busy machine with
    few cores, 1 is much faster than torch's default).
    """

    name = "transformers"

    def __init__(
        self,
        path: str | Path,
        adapter: str | Path | None = None,
        device: str = "auto",
        dtype: str | torch.dtype = "auto",
        merge_adapter: bool = True,
        assistant_name: str = "Assistant",
        threads: int | None = None,
    ) -> None:
        if threads:
            torch.set_num_threads(threads)
        self.path = Path(path).expanduser()
        check_checkpoint(self.path)
        self.device = pick_device(device)
        self.dtype = pick_dtype(dtype, self.device)
        self.assistant_name = assistant_name
        self.tokenizer = self._load_tokenizer()
        self.model = self._load_model()
        if adapter is not None:
            self.model = self._load_adapter(Path(adapter).expanduser(), merge_adapter)
        self.model.eval()
        self.pad_id = self._pad_id()
        self.stop_ids = self._stop_ids()

    # Loading

    def _load_tokenizer(self):
        """Return the checkpoint's tokenizer, read from local files only."""
        try:
            tokenizer = AutoTokenizer.from_pretrained(self.path, local_files_only=True)
        except (OSError, ValueError, TypeError) as exc:
            raise BackendError(
                f"Cannot load the tokenizer of {self.path}: {exc}. Expected "
                "tokenizer.json and tokenizer_config.json as saved by save_pretrained."
            ) from exc
        tokenizer.padding_side = "left"
        return tokenizer

    def _load_model(self) -> torch.nn.Module:
        """Return the checkpoint's causal LM on the chosen device and dtype."""
        try:
            model = AutoModelForCausalLM.from_pretrained(
                self.path, local_files_only=True, dtype=self.dtype
            )
        except (OSError, ValueError, KeyError, RuntimeError) as exc:
            raise BackendError(
                f"Cannot load a causal language model from {self.path}: {exc}. "
                "Expected config.json and weights saved by save_pretrained."
            ) from exc
        return model.to(self.device)

    def _load_adapter(self, adapter: Path, merge: bool) -> torch.nn.Module:
        """Return the model with the LoRA adapter at `adapter` applied."""
        from peft import PeftModel

        if not (adapter / "adapter_config.json").is_file():
            raise BackendError(
                f"No LoRA adapter at {adapter}: expected a directory holding "
                "adapter_config.json and adapter weights, as saved by peft's "
                "save_pretrained. Check the adapter option."
            )
        try:
            with warnings.catch_warnings():
                # peft still calls a transformers property deprecated for v6.
                warnings.filterwarnings("ignore", ".*is_gradient_checkpointing")
                model = PeftModel.from_pretrained(
                    self.model, adapter, is_trainable=False
                )
        except (OSError, ValueError, KeyError, RuntimeError) as exc:
            raise BackendError(
                f"Cannot apply the LoRA adapter at {adapter} to {self.path}: {exc}. "
                "Was it trained on this base model?"
            ) from exc
        return model.merge_and_unload() if merge else model

    def _pad_id(self) -> int:
        """Return the id that pads prompts on the left."""
        for token_id in (self.tokenizer.pad_token_id, self.tokenizer.eos_token_id):
            if token_id is not None:
                return token_id
        return 0

    def _stop_ids(self) -> set[int]:
        """Return the token ids that end a generation (the end-of-sequence ids)."""
        ids = set()
        eos = getattr(self.model.generation_config, "eos_token_id", None)
        for value in (eos, self.tokenizer.eos_token_id):
            if isinstance(value, int):
                ids.add(value)
            elif value:
                ids.update(value)
        return ids

    # Prompts

    @property
    def context_length(self) -> int:
        """Return the model's maximum sequence length."""
        config = self.model.config
        for key in ("max_position_embeddings", "n_positions", "max_sequence_length"):
            value = getattr(config, key, None)
            if value:
                return int(value)
        limit = getattr(self.tokenizer, "model_max_length", None) or 0
        return int(limit) if 0 < limit < 1_000_000 else 2048

    def count_tokens(self, text: str) -> int:
        """Return how many tokens `text` takes, without added special tokens."""
        return len(self.tokenizer(text, add_special_tokens=False)["input_ids"])

    def render_prompt(self, request: GenerationRequest) -> str:
        """Return the prompt text: the chat template when there is one, else lines."""
        if getattr(self.tokenizer, "chat_template", None):
            try:
                return self.tokenizer.apply_chat_template(
                    request.messages, tokenize=False, add_generation_prompt=True
                )
            except (TemplateError, ValueError, TypeError, KeyError) as exc:
                raise BackendError(
                    f"The chat template of {self.path} cannot render these "
                    f"messages: {exc}. Check their roles and order."
                ) from exc
        lines = [
            f"{message.get('name') or message['role'].title()}: {message['content']}"
            for message in request.messages
        ]
        return "\n".join([*lines, f"{self.assistant_name}:"])

    def prompt_ids(self, request: GenerationRequest) -> list[int]:
        """Return the prompt's token ids, cut from the left to leave room to answer."""
        templated = bool(getattr(self.tokenizer, "chat_template", None))
        text = self.render_prompt(request)
        # A chat template writes its own BOS; a plain prompt gets the tokenizer's.
        ids = self.tokenizer(text, add_special_tokens=not templated)["input_ids"]
        if not ids:
            raise BackendError(
                "The prompt is empty: give the request messages or a cue."
            )
        room = max(1, self.context_length - request.max_new_tokens)
        return ids[-room:]

    # Decoding hooks, for subclasses

    def adjust_logits(self, logits: torch.Tensor, step: int) -> torch.Tensor:
        """Return the next-token logits (B, V) for `step`, after any constraints."""
        return logits

    def steer(self, logits: torch.Tensor, step: int, rows: list[_Row]) -> torch.Tensor:
        """Return the logits (B, V) of `rows` after any per-request steering."""
        return logits

    def surface_text(self, ids: list[int]) -> str:
        """Return the text shown for the generated `ids`."""
        return self.tokenizer.decode(
            ids, skip_special_tokens=True, clean_up_tokenization_spaces=False
        )

    # Generation

    def stream(
        self, request: GenerationRequest, cancel: threading.Event | None = None
    ) -> Iterator[str]:
        """Yield the generated text piece by piece; stop early once `cancel` is set."""
        for _, piece in self._decode([request], cancel):
            yield piece

    def generate(
        self, request: GenerationRequest, cancel: threading.Event | None = None
    ) -> Generation:
        """Return the whole generation for `request`, counting real tokens."""
        return self.generate_batch([request], cancel)[0]

    def generate_batch(
        self, requests: list[GenerationRequest], cancel: threading.Event | None = None
    ) -> list[Generation]:
        """Return one generation per request, decoded together in one batch."""
        if not requests:
            return []
        started = time.perf_counter()
        rows: list[_Row] = []
        for _ in self._decode(requests, cancel, rows):
            pass
        return [_generation(row, started) for row in rows]

    def _decode(
        self,
        requests: list[GenerationRequest],
        cancel: threading.Event | None,
        rows: list[_Row] | None = None,
    ) -> Iterator[tuple[int, str]]:
        """Yield (row, piece) while decoding `requests` as one left-padded batch."""
        rows = [] if rows is None else rows
        rows.extend(_Row(request, _generator(request.seed)) for request in requests)
        input_ids, mask = self._left_pad([self.prompt_ids(r) for r in requests])
        positions = (mask.cumsum(-1) - 1).clamp(min=0)  # (B, T)
        steps = max(r.max_new_tokens for r in requests)
        cache = new_cache(self.model, input_ids.shape[1] + steps)
        logits = self._forward(input_ids, mask, positions, cache)  # (B, V)
        active = list(range(len(rows)))  # the row decoded at each batch position
        for step in range(steps):
            if cancel is not None and cancel.is_set():
                for row in rows:
                    if not row.done:
                        _finish(row, "cancelled")
                return
            live = [rows[i] for i in active]
            logits = self.steer(self.adjust_logits(logits, step), step, live)
            chosen = self._choose(logits, live)
            now = time.perf_counter()
            for index, row, token_id in zip(active, live, chosen, strict=True):
                row.first_token_at = row.first_token_at or now
                piece = self._advance(row, token_id)
                if piece:
                    yield index, piece
            keep = [pos for pos, row in enumerate(live) if not row.done]
            if not keep:
                return
            if len(keep) < len(active):  # drop finished rows from the batch
                kept = torch.tensor(keep, device=self.device)
                cache.batch_select_indices(kept)
                mask, positions = mask[kept], positions[kept]
                active = [active[pos] for pos in keep]
            fed = [[rows[i].ids[-1]] for i in active]
            input_ids = torch.tensor(fed, device=self.device)  # (B, 1)
            mask = torch.cat([mask, torch.ones_like(input_ids)], dim=1)
            positions = positions[:, -1:] + 1
            logits = self._forward(input_ids, mask, positions, cache)

    def _left_pad(self, prompts: list[list[int]]) -> tuple[torch.Tensor, torch.Tensor]:
        """Return ids and attention mask (B, T) with each prompt padded on the left."""
        width = max(len(ids) for ids in prompts)
        ids = [[self.pad_id] * (width - len(p)) + p for p in prompts]
        mask = [[0] * (width - len(p)) + [1] * len(p) for p in prompts]
        return (
            torch.tensor(ids, device=self.device),
            torch.tensor(mask, device=self.device),
        )

    def _forward(
        self,
        input_ids: torch.Tensor,
        mask: torch.Tensor,
        positions: torch.Tensor,
        cache: DynamicCache,
    ) -> torch.Tensor:
        """Return the float32 next-token logits (B, V) and extend `cache`."""
        with torch.inference_mode():
            output = self.model(
                input_ids=input_ids,
                attention_mask=mask,
                position_ids=positions,
                past_key_values=cache,
                use_cache=True,
                logits_to_keep=1,
            )
        return output.logits[:, -1, :].float()

    def _choose(self, logits: torch.Tensor, rows: list[_Row]) -> list[int]:
        """Return the next token id of each row: greedy at temperature 0, else sampled."""
        chosen = logits.argmax(dim=-1).tolist()
        for index, row in enumerate(rows):
            request = row.request
            if request.temperature <= 0:
                continue
            probs = torch.softmax(logits[index] / request.temperature, dim=-1).cpu()
            if request.top_p < 1.0:
                sorted_probs, order = probs.sort(descending=True)
                outside = sorted_probs.cumsum(-1) - sorted_probs > request.top_p
                sorted_probs[outside] = 0.0
                probs = torch.zeros_like(probs).scatter_(0, order, sorted_probs)
            chosen[index] = int(torch.multinomial(probs, 1, generator=row.generator))
        return chosen

    def _advance(self, row: _Row, token_id: int) -> str:
        """Take `token_id` into `row` and return the text now safe to hand out."""
        if token_id in self.stop_ids:
            _finish(row, "stop")
            return _flush(row)
        row.ids.append(token_id)
        row.text = self.surface_text(row.ids)
        stops = row.request.stop
        cut = min(
            (i for i in (row.text.find(s) for s in stops if s) if i >= 0), default=-1
        )
        if cut >= 0:
            row.text = row.text[:cut]
            _finish(row, "stop")
            return _flush(row)
        if len(row.ids) >= row.request.max_new_tokens:
            _finish(row, "length")
            return _flush(row)
        safe = len(row.text) - _held_back(row.text, stops)
        piece = row.text[row.sent : safe]
        row.sent = max(row.sent, safe)
        return piece


def _generator(seed: int | None) -> torch.Generator:
    """Return a CPU random generator seeded with `seed` (or fresh entropy)."""
    generator = torch.Generator()
    if seed is None:
        generator.seed()
    else:
        generator.manual_seed(seed)
    return generator


def _held_back(text: str, stops: tuple[str, ...]) -> int:
    """Return how many trailing characters of `text` must wait before going out.

    They wait while they could be the start of a stop string, or are the
    replacement characters of a multi-byte character not yet complete.
    """
    if text.endswith("\ufffd"):
        return len(text) - len(text.rstrip("\ufffd"))
    longest = 0
    for stop in stops:
        for size in range(min(len(stop) - 1, len(text)), longest, -1):
            if text.endswith(stop[:size]):
                longest = size
                break
    return longest


def _finish(row: _Row, reason: str) -> None:
    """Mark `row` finished for `reason`."""
    row.done = True
    row.finish_reason = reason
    row.finished_at = time.perf_counter()


def _flush(row: _Row) -> str:
    """Return all of `row`'s text not handed out yet."""
    piece = row.text[row.sent :]
    row.sent = len(row.text)
    return piece


def _generation(row: _Row, started: float) -> Generation:
    """Return the Generation of a finished `row`."""
    finished = row.finished_at or time.perf_counter()
    first = row.first_token_at
    return Generation(
        text=row.text,
        tokens=len(row.ids),
        latency_ms=(finished - started) * 1000,
        first_token_ms=None if first is None else (first - started) * 1000,
        finish_reason=row.finish_reason,
    )
