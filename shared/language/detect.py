"""Language of a customer's message, when the caller does not say.

py3langid (a maintained fork of langid.py) ships its model inside the wheel, so nothing
is downloaded at run time, and it is deterministic. Restricting it to the languages the
contact center serves (CX_DETECT_LANGUAGES) makes short messages far more reliable. It
is imported on first use only: callers that pass ``language`` never pay for it.
"""

from __future__ import annotations

import copy
import threading
from typing import Any

_lock = threading.Lock()
_model: Any = None
_identifiers: dict[tuple[str, ...], Any] = {}


def _identifier(languages: tuple[str, ...]) -> Any:
    """An identifier restricted to ``languages``. The model (some 75 MiB of arrays) is loaded once per
    process; each language set is a shallow copy holding only its own restricted columns, so PII
    masking's set and the settings' set do not each carry a copy of the model."""
    global _model
    ident = _identifiers.get(languages)
    if ident is not None:
        return ident
    with _lock:
        if languages not in _identifiers:
            if _model is None:
                from py3langid.langid import MODEL_FILE, LanguageIdentifier

                _model = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
            ident = copy.copy(_model)
            ident.set_languages(list(languages))  # rebinds the copy's own arrays; the shared model is untouched
            _identifiers[languages] = ident
        return _identifiers[languages]


MIN_CONFIDENCE = 0.5


def choose_language(text: str, languages: tuple[str, ...], fallback: str) -> tuple[str, bool]:
    """(language, detected): the detected language when confident, else ``fallback``."""
    if not text:
        return fallback, False
    code, confidence = detect_language(text, languages, fallback)
    return (code, True) if confidence >= MIN_CONFIDENCE else (fallback, False)


def detect_language(text: str, languages: tuple[str, ...], default: str) -> tuple[str, float]:
    """(ISO 639-1 code, probability); ``default`` when the text has no letters to judge."""
    if not any(ch.isalpha() for ch in text):
        return default, 0.0
    code, probability = _identifier(languages).classify(text)
    return str(code), round(float(probability), 3)
