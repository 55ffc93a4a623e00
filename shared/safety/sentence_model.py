"""Static sentence embeddings for the reply checks: ``wordllama`` (MIT, weights inside its wheel).

Why this model: it runs on CPU with no network, loads in about half a second and embeds a sentence
in well under a millisecond (a token-embedding lookup and a mean), which keeps the output policy's
p50 under 10 ms; a transformer encoder would not, and the Vertex embedder is a network call.

The wheel ships its tokenizer as ``wordllama/tokenizers/<name>.json`` but ``WordLlama.load`` looks
for it in ``wordllama/tokenizer/`` and then in ``<cache_dir>/tokenizers/``, and would otherwise try
Hugging Face. :func:`load_wordllama` copies the bundled file into a cache directory once and loads
with ``disable_download=True``: nothing is fetched at run time, a missing file is an error.

One :class:`SentenceModel` serves every thread of an instance: the model is loaded on first use
under a lock; embedding itself keeps no state between calls.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
import threading
from collections.abc import Sequence
from importlib import util
from pathlib import Path
from typing import Any

import numpy as np

CONFIG = "l2_supercat"
DIM = 256


def _import_wordllama() -> Any:
    """Import the package without letting its ``logging.basicConfig(level=INFO)`` change the root logger."""
    root = logging.getLogger()
    level, handlers = root.level, list(root.handlers)
    import wordllama

    for h in root.handlers[:]:
        if h not in handlers:
            root.removeHandler(h)
    root.setLevel(level)
    return wordllama


def bundled_tokenizer(config: str = CONFIG) -> Path:
    """The tokenizer file the wheel ships (raises FileNotFoundError when the package is not installed)."""
    spec = util.find_spec("wordllama")
    if spec is None or spec.origin is None:
        raise FileNotFoundError("the wordllama package is not installed (requirements.txt pins it)")
    path = Path(spec.origin).parent / "tokenizers" / f"{config}_tokenizer_config.json"
    if not path.exists():
        raise FileNotFoundError(f"wordllama's bundled tokenizer is missing: {path}")
    return path


def load_wordllama(cache_dir: Path | None = None, *, config: str = CONFIG, dim: int = DIM) -> Any:
    """The wordllama model from the wheel only: the bundled tokenizer copied where ``load`` looks."""
    cache = cache_dir or Path(tempfile.gettempdir()) / "cx-wordllama"
    source = bundled_tokenizer(config)
    target = cache / "tokenizers" / source.name
    if not target.exists() or target.stat().st_size != source.stat().st_size:
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_suffix(f".{threading.get_ident()}.tmp")
        shutil.copyfile(source, partial)
        partial.replace(target)  # atomic: another process never reads half a file
    wordllama = _import_wordllama()
    return wordllama.WordLlama.load(config=config, dim=dim, cache_dir=cache, disable_download=True)


class SentenceModel:
    """Unit-length sentence vectors; the model is built by ``loader`` on first use, once, thread-safe.

    ``loader`` is injectable (tests pass a fake with an ``embed(texts, norm=True)`` method)."""

    def __init__(self, loader: Any = None, *, cache_dir: Path | None = None) -> None:
        self._loader = loader or (lambda: load_wordllama(cache_dir))
        self._model: Any = None
        self._lock = threading.Lock()

    @property
    def model(self) -> Any:
        if self._model is None:
            with self._lock:
                if self._model is None:
                    self._model = self._loader()
        return self._model

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Rows of unit vectors (float32); a text with no tokens is the zero vector, not NaN."""
        if not texts:
            return np.zeros((0, 0), dtype=np.float32)
        vectors = np.asarray(self.model.embed(list(texts), norm=False), dtype=np.float32)
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return np.divide(vectors, norms, out=np.zeros_like(vectors), where=norms > 0)
