"""Language-model backends: pick one by short name or import string, then stream."""

from __future__ import annotations

import importlib
import inspect

from agents.backends.base import (
    BackendError,
    BaseBackend,
    Generation,
    GenerationRequest,
)

BACKENDS = {
    "embedded": "agents.backends.embedded.EmbeddedBackend",
    "transformers": "agents.backends.huggingface.HuggingFaceBackend",
    "openai": "agents.backends.openai_compat.OpenAICompatibleBackend",
}

__all__ = [
    "BACKENDS",
    "BackendError",
    "BaseBackend",
    "Generation",
    "GenerationRequest",
    "backend_class",
    "load_backend",
]


def backend_class(name: str) -> type[BaseBackend]:
    """Return the backend class for a short name (`embedded`) or an import string."""
    path = BACKENDS.get(name, name)
    module_name, _, class_name = path.rpartition(".")
    if not module_name:
        raise BackendError(
            f"Unknown backend {name!r}: use one of {', '.join(BACKENDS)} or an "
            "import string such as 'agents.backends.huggingface.HuggingFaceBackend'."
        )
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise BackendError(
            f"Cannot import backend module {module_name!r} for {name!r}: {exc}."
        ) from exc
    cls = getattr(module, class_name, None)
    if not (isinstance(cls, type) and issubclass(cls, BaseBackend)):
        raise BackendError(
            f"{path!r} is not a backend: {module_name} has no BaseBackend subclass "
            f"named {class_name!r}."
        )
    return cls


def load_backend(name: str, **options) -> BaseBackend:
    """Return a ready backend `name` (short name or import string) built with `options`."""
    cls = backend_class(name)
    try:
        inspect.signature(cls).bind(**options)
    except TypeError as exc:
        raise BackendError(
            f"Bad options for backend {name!r}: {exc}. It takes {inspect.signature(cls)}."
        ) from exc
    return cls(**options)
