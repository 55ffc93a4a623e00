"""Encoded or non-natural text: Base64, hex, escaped or numeric character codes, code and chat
markup, and sentences whose words are mostly not words of the call's dictionary languages
(wordfreq): reversed, ROT13/ciphered, scrambled, run-together or leetspeak text."""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Mapping
from typing import Any

from shared.safety.output_policy.base import (
    EMAIL,
    HOST,
    SCHEME_URL,
    TOKEN,
    TRAIL,
    WORD,
    Check,
    Hit,
    PolicyContext,
    phrases,
)
from shared.safety.output_policy.vocabulary import Vocabulary

_MANGLED = re.compile(r"[^\W\d_][\d@$#&!%*|+]+[^\W\d_]|^[\d@$#&!%*|]+[^\W\d_]+[\d@$#&!%*|]", re.UNICODE)
_LEET = str.maketrans({"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a", "$": "s", "!": "i"})


class EncodedTextCheck(Check):
    name = "encoded"

    def __init__(self, raw: Mapping[str, Any]) -> None:
        self.encoded: dict[str, Any] = dict(raw["encoded"])
        self._code = phrases([m for m in self.encoded["code_markers"] if len(m) > 4])
        self._code_literal = [m.lower() for m in self.encoded["code_markers"]]
        self.vocabulary = Vocabulary(float(self.encoded["known_zipf"]), float(self.encoded["common_zipf"]))

    def sentence(self, s: str, plain: str, ctx: PolicyContext) -> list[Hit]:
        languages = ctx.dictionary_languages

        def is_known(w: str) -> bool:
            return self.vocabulary.known(w, languages)

        cfg = self.encoded
        low = plain.lower()
        for marker in self._code_literal:
            if marker in low and (len(marker) > 4 or re.search(r"(?<!\w)" + re.escape(marker.strip()), low)):
                return [Hit("code_or_markup", s, marker.strip())]
        if cfg.get("inline_code") and re.search(r"`[^`\s][^`]*`", plain):
            return [Hit("code_or_markup", s, "inline code")]
        scrubbed = SCHEME_URL.sub(" ", EMAIL.sub(" ", plain))
        tokens = [t.strip(TRAIL + "(['\"") for t in TOKEN.findall(scrubbed)]
        tokens = [t for t in tokens if t]
        mangled = [t for t in tokens if _MANGLED.search(t) and not is_known(t)]
        if len(mangled) >= int(cfg["mangled_tokens"]) and len(mangled) / len(tokens) >= float(cfg["mangled_share"]):
            return [Hit("non_natural_text", s, f"{len(mangled)}/{len(tokens)} words with digits or symbols inside")]
        for tok in TOKEN.findall(scrubbed):
            t = tok.strip(TRAIL + "(['\"")
            if HOST.fullmatch(t) and "/" not in t:
                continue
            if _looks_base64(t, int(cfg["base64_min_len"]), float(cfg["base64_min_entropy"])):
                return [Hit("encoded_text", s, "base64")]
            hex_min = int(cfg["hex_min_len"])
            is_hex = re.fullmatch(rf"(?:0x)?[0-9a-fA-F]{{{hex_min},}}", t)
            if is_hex and re.search(r"[a-fA-F]", t) and re.search(r"\d", t):
                return [Hit("encoded_text", s, "hex")]
        if re.search(
            r"(?:\\x[0-9a-f]{2}){4,}|(?:\\u[0-9a-f]{4}){3,}|(?:%[0-9a-f]{2}){6,}", plain, re.IGNORECASE
        ) or re.search(r"(?:\b[01]{8}\b\s*){4,}|(?:\b\d{2,3}\s*,\s*){8,}", plain):
            return [Hit("encoded_text", s, "escaped or numeric codes")]
        words = [w for w in WORD.findall(scrubbed) if len(w) >= 2]
        letters = [w for w in words if not w.isupper() or len(w) > 5]
        if any(len(w) >= int(cfg["max_word_letters"]) and "-" not in w and not is_known(w) for w in letters):
            return [Hit("non_natural_text", s, "words run together")]
        leet = [t for t in TOKEN.findall(scrubbed) if _is_leet(t.strip(TRAIL), is_known)]
        if len(leet) >= int(cfg["leet_tokens"]):
            return [Hit("non_natural_text", s, "letters replaced by digits or symbols")]
        swapped = [w for w in letters if self.vocabulary.swapped(w, languages)]
        if len(swapped) >= int(cfg["swapped_tokens"]) and len(swapped) / len(letters) >= float(cfg["swapped_share"]):
            return [Hit("non_natural_text", s, f"{len(swapped)}/{len(letters)} words with swapped letters")]
        if len(letters) >= int(cfg["min_tokens"]):
            # weighted by length: short tokens ("ba", "vg") are often abbreviations of something
            known = sum(len(w) for w in letters if is_known(w))
            total = sum(len(w) for w in letters)
            if known / total < float(cfg["min_known_ratio"]):
                return [Hit("non_natural_text", s, f"{known}/{total} letters in dictionary words")]
        return []


def _entropy(token: str) -> float:
    counts = Counter(token)
    return -sum(n / len(token) * math.log2(n / len(token)) for n in counts.values())


def _looks_base64(token: str, min_len: int, min_entropy: float) -> bool:
    if len(token) < min_len or not re.fullmatch(r"[A-Za-z0-9+/]+={0,2}", token):
        return False
    mixed = bool(re.search(r"[a-z]", token) and re.search(r"[A-Z]", token) and re.search(r"\d", token))
    return (mixed or token.endswith("=")) and _entropy(token) >= min_entropy


def _is_leet(token: str, known: Any) -> bool:
    """A word with digits or symbols standing in for letters ("m3ss4g3", "p@ssw0rd")."""
    if len(token) < 3 or not re.search(r"[^\W\d_]", token) or not re.search(r"[\d@$!]", token.rstrip("!")):
        return False
    if not re.search(r"[^\W\d_][\d@$][^\W\d_\s]|[^\W\d_][\d@$]{1,2}$|^[\d@$][^\W\d_]{2,}", token):
        return False
    decoded = token.translate(_LEET)
    return decoded.isalpha() and known(decoded) and not known(token)
