"""Person names without a cue word, and names after a courtesy title in de/fr/it/en ("Herr Dr. Schmidt",
"Mme Dubois", "Sig. Rossi"): the name knowledge is data from a maintained source, Faker's per-locale
person providers (``known_names.locales`` in pii.yaml), not a hand-typed list.

* titled: a title (``known_names.titles``), more titles, then one to three capitalised words;
* uncued: a known first name followed by a known surname ("Lukas Brandt", "Giulia Rossi"). Both
  must be in the lists, so a capitalised German noun after a first name stays."""

from __future__ import annotations

import importlib
import re
from functools import cached_property

from shared.safety.pii.base import PiiConfig, Recognizer, Span

_CAP = r"[A-ZÀ-ÖØ-Þ][^\W\d_]*(?:['’-][^\W\d_]+)*"


def _names(value: object) -> set[str]:
    if isinstance(value, dict):
        return {str(k) for k in value}
    if isinstance(value, (list, tuple, set)):
        return {str(v) for v in value}
    return set()


class KnownNameRecognizer(Recognizer):
    name = "known_names"

    def __init__(self, config: PiiConfig) -> None:
        super().__init__(config)
        if config.known_names is None:
            raise ValueError("pii.yaml: recognizer known_names needs a `known_names` section")
        self._conf = config.known_names
        self._not_names = {w.lower() for w in config.names.not_names}
        titles = [t for ts in self._conf.titles.values() for t in ts]
        title = "(?:" + "|".join(sorted(titles, key=len, reverse=True)) + ")"
        self._titled = re.compile(rf"(?<![\w.]){title}(?:[ \t]+{title})*[ \t]+({_CAP}(?:[ \t]+{_CAP}){{0,2}})")
        self._pair = re.compile(rf"(?<![\w.])({_CAP})[ \t]+({_CAP})(?:[ \t]+({_CAP}))?")

    @cached_property
    def lists(self) -> tuple[frozenset[str], frozenset[str]]:
        """(first names, surnames) of every configured locale; loaded on first use."""
        first: set[str] = set()
        last: set[str] = set()
        for locale in self._conf.locales:
            provider = importlib.import_module(f"faker.providers.person.{locale}").Provider
            for attr in ("first_names", "first_names_male", "first_names_female", "first_names_nonbinary"):
                first |= _names(getattr(provider, attr, ()))
            last |= _names(getattr(provider, "last_names", ()))
        keep = self._conf.min_length
        return (
            frozenset(n for n in first if len(n) >= keep and n.lower() not in self._not_names),
            frozenset(n for n in last if len(n) >= keep and n.lower() not in self._not_names),
        )

    def analyze(self, text: str) -> list[Span]:
        if not any(ch.isupper() for ch in text):
            return []
        out: list[Span] = []
        for m in self._titled.finditer(text):
            words = []
            for w in m.group(1).split():
                if w.lower() in self._not_names:
                    break
                words.append(w)
            if words:
                value = " ".join(words)
                out.append(Span("PERSON", m.start(1), m.start(1) + len(value), value))
        first, last = self.lists
        for m in self._pair.finditer(text):
            if m.group(1) in first and m.group(2) in last:
                end = m.end(3) if m.group(3) and m.group(3) in last else m.end(2)
                out.append(Span("PERSON", m.start(1), end, text[m.start(1) : end]))
        return out
