"""Which words are words: wordfreq's word lists of the dictionary languages of a call.

Natural text is text whose words belong to a configured language or to the requested one;
which languages those are is per call (:attr:`PolicyContext.dictionary_languages`), so
every method takes them as an argument. The word lists load on first use, once per
instance; the memo of answers is keyed by the word AND the languages.
"""

from __future__ import annotations

import re
import threading

_lock = threading.Lock()
_wordsets: dict[tuple[str, float], dict[str, float]] = {}


def _wordset(lang: str, zipf: float) -> dict[str, float]:
    """wordfreq's words of ``lang`` with a Zipf frequency of at least ``zipf``, with that frequency."""
    key = (lang, zipf)
    if key not in _wordsets:
        with _lock:
            if key not in _wordsets:
                import gzip

                import msgpack
                from wordfreq import DATA_PATH

                path = DATA_PATH / f"large_{lang}.msgpack.gz"
                if not path.exists():
                    path = DATA_PATH / f"small_{lang}.msgpack.gz"
                words: dict[str, float] = {}
                if path.exists():
                    # wordfreq's cBpack: [header, bucket 0, bucket 1, ...]; bucket i holds the words at
                    # -i centibels (Zipf = 9 - i / 100). Streamed, and stopped at the floor: the rare
                    # tail (most of the file) is never held in memory.
                    with gzip.open(path, "rb") as fh:
                        unpacker = msgpack.Unpacker(fh, raw=False)
                        size = unpacker.read_array_header()
                        unpacker.skip()
                        for i in range(size - 1):
                            if 9 - i / 100 < zipf:
                                break
                            words.update(dict.fromkeys(unpacker.unpack(), 9 - i / 100))
                _wordsets[key] = words
    return _wordsets[key]


class Vocabulary:
    """Dictionary lookups with compounds and hyphenated words; thread-safe, no per-call state."""

    MEMO_LIMIT = 50000

    def __init__(self, known_zipf: float, common_zipf: float) -> None:
        self.known_zipf = known_zipf
        self.common_zipf = common_zipf
        self._memo: dict[tuple[str, tuple[str, ...]], bool] = {}

    def _zipf_ok(self, w: str, zipf: float, languages: tuple[str, ...]) -> bool:
        return any(_wordset(lang, self.known_zipf).get(w, -1.0) >= zipf for lang in languages)

    def known(self, word: str, languages: tuple[str, ...]) -> bool:
        """A dictionary word of any of ``languages``, or a compound of such words
        ("Datenbank-Clusterverwaltungskonfiguration": German joins nouns, hyphen or not)."""
        w = word.lower()
        key = (w, languages)
        found = self._memo.get(key)
        if found is None:
            if len(self._memo) > self.MEMO_LIMIT:
                self._memo.clear()
            found = self._known_uncached(w, languages)
            self._memo[key] = found
        return found

    def _known_uncached(self, w: str, languages: tuple[str, ...]) -> bool:
        if self._known_plain(w, languages):
            return True
        parts = [p for p in re.split(r"[-'’]", w) if p]
        if len(parts) > 1:
            return all(self.known(p, languages) for p in parts)
        return self._compound(w, 3, languages)

    def swapped(self, word: str, languages: tuple[str, ...]) -> bool:
        """An unknown word that one swap of neighbouring letters turns into a common word ("hvae")."""
        w = word.lower()
        if len(w) < 3 or self.known(w, languages):
            return False
        for i in range(len(w) - 1):
            fixed = w[:i] + w[i + 1] + w[i] + w[i + 2 :]
            if (
                fixed != w
                and re.fullmatch(r"[^\W\d_]+", fixed)
                and self._zipf_ok(fixed.casefold(), self.common_zipf, languages)
            ):
                return True
        return False

    def _known_plain(self, w: str, languages: tuple[str, ...]) -> bool:
        if not re.fullmatch(r"[^\W\d_]+", w):
            return False  # letters only: "y$u" is not the words "y" and "u"
        return self._zipf_ok(w.casefold(), self.known_zipf, languages)

    def _compound(self, w: str, depth: int, languages: tuple[str, ...]) -> bool:
        """``w`` split into ≤ ``depth`` known parts of ≥ 4 letters (a linking "s" allowed)."""
        if depth == 0 or len(w) < 8:
            return False
        for i in range(4, len(w) - 3):
            head, tail = w[:i], w[i:]
            head_known = self._known_plain(head, languages) or (
                head.endswith("s") and self._known_plain(head[:-1], languages)
            )
            if head_known and (self._known_plain(tail, languages) or self._compound(tail, depth - 1, languages)):
                return True
        return False
