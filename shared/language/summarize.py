"""Extractive conversation summary: the sentences that state the problem, the resolution and the
commitments (no spaCy), and ``condense`` for stored contact texts (context summary)."""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Mapping
from typing import Any

from shared.language.clauses.base import WORD, Lang
from shared.language.nlp import SentenceSplitter


class Summarizer:
    def __init__(
        self,
        splitter: SentenceSplitter,
        langs: Mapping[str, Lang],
        default: str,
        speaker_labels: Mapping[str, list[str]],
    ) -> None:
        self.splitter = splitter
        self.langs = dict(langs)
        self.default = default
        labels = [w for words in speaker_labels.values() for w in words]
        self._speaker_prefix = re.compile(rf"^\s*({'|'.join(re.escape(w) for w in labels)})\s*:\s*", re.IGNORECASE)
        self._agent_labels = {w.lower() for w in speaker_labels.get("agent", [])}

    def lang(self, language: str) -> tuple[str, Lang]:
        code = language if language in self.langs else self.default
        return code, self.langs[code]

    def summary_sentences(self, turns: list[dict[str, Any]], language: str, limit: int = 3) -> list[dict[str, Any]]:
        """The sentences that state the problem, the resolution and the commitments (no spaCy).

        Centrality: a sentence's mean cosine similarity (TF-IDF bags of content words) to every
        other sentence (TextRank-style degree centrality), boosted by role: the customer's first
        problem statement, the agent's commitments/instructions, and late agent sentences (the
        resolution). Returned in conversation order.

        Linear in the number of sentences (:func:`centralities` scores against the centroid instead of
        comparing every pair), so a two-hour call is summarised whole.
        """
        _, lang = self.lang(language)
        stop = lang.words["stopwords"]
        rows: list[dict[str, Any]] = []
        for n, turn in enumerate(turns):
            if turn["speaker"] not in ("agent", "customer"):
                continue
            for s in self.splitter.split(_clean(turn["text"])):
                words = [w for w in WORD.findall(s.lower()) if w not in stop and len(w) > 1 and not w.isdigit()]
                if len(words) < 2:
                    continue
                rows.append({"turn": n, "speaker": turn["speaker"], "text": s, "bag": Counter(words)})
        if not rows:
            return []
        central = centralities([r["bag"] for r in rows])
        n_turns = max(r["turn"] for r in rows) + 1
        # The opening statement of the problem: the first customer sentence with a problem word or some
        # substance (greetings and "hope you are well" do not count).
        first_customer = next(
            (
                i
                for i, r in enumerate(rows)
                if r["speaker"] == "customer"
                and (lang.contains("problem_cues", r["text"].lower()) or len(r["bag"]) >= 4)
            ),
            None,
        )
        at = {id(r): i for i, r in enumerate(rows)}
        for i, r in enumerate(rows):
            centrality = central[i]
            low = r["text"].lower()
            role = 0.0
            if r["speaker"] == "customer":
                if lang.contains("problem_cues", low) or "?" in r["text"]:
                    role += 0.15
                if i == first_customer:
                    role += 0.25
            else:
                if lang.contains("resolution_cues", low):
                    role += 0.15
                role += 0.1 * (r["turn"] / max(n_turns - 1, 1))
            r["score"] = round(centrality + role, 9)  # exact ties (repeated wording) keep conversation order
        best_problem = max((r for r in rows if r["speaker"] == "customer"), key=lambda r: r["score"], default=None)
        best_agent = max((r for r in rows if r["speaker"] == "agent"), key=lambda r: r["score"], default=None)
        chosen = [r for r in (best_problem, best_agent) if r is not None]
        for r in sorted(rows, key=lambda r: r["score"], reverse=True):
            if len(chosen) >= limit:
                break
            if r not in chosen:
                chosen.append(r)
        chosen.sort(key=lambda r: (r["turn"], at[id(r)]))
        return [{"speaker": r["speaker"], "text": r["text"], "score": round(r["score"], 3)} for r in chosen]

    def guess_language(self, text: str) -> str:
        """The language whose stop words the text hits most (cheap; only to pick the summary's word lists)."""
        words = WORD.findall(text.lower())
        hits = {code: sum(w in lang.words["stopwords"] for w in words) for code, lang in self.langs.items()}
        return max(hits, key=lambda code: (hits[code], code == self.default))

    def condense(self, text: str, limit: int = 2) -> str:
        """A stored contact text (a note or a "Customer: … / Agent: …" transcript) cut down to the
        sentences that state the problem and the resolution; short texts are returned as they are."""
        turns: list[dict[str, Any]] = []
        for line in text.splitlines():
            m = self._speaker_prefix.match(line)
            if m:
                speaker = "agent" if m.group(1).lower() in self._agent_labels else "customer"
                turns.append({"speaker": speaker, "text": line[m.end() :]})
            elif line.strip():
                if turns:
                    turns[-1]["text"] += " " + line.strip()
                else:
                    turns.append({"speaker": "customer", "text": line.strip()})
        if sum(len(self.splitter.split(t["text"])) for t in turns) <= limit:
            return text.strip()
        picked = self.summary_sentences(turns, self.guess_language(text), limit=limit)
        return " ".join(p["text"] for p in picked) or text.strip()


_HANDLE = re.compile(r"(?:^|\s)@\w+|https?://\S+|\^\w+$")


def _clean(text: str) -> str:
    """Drop @handles, links and sign-offs like ^JD (social-media dialogue noise)."""
    return re.sub(r"\s+", " ", _HANDLE.sub(" ", text)).strip()


def centralities(bags: list[Counter[str]]) -> list[float]:
    """Each bag's mean cosine similarity to every other bag, on TF-IDF weights, in linear time.

    ``mean_j≠i cos(v_i, v_j) = (u_i · Σ_j u_j - 1) / (n - 1)`` with ``u`` the unit vectors: one pass
    builds the centroid ``Σ u``, a second scores each bag against it — the values the pairwise
    comparison gave, without its n² pairs."""
    total = len(bags)
    if total < 2:
        return [0.0] * total
    df = Counter(w for bag in bags for w in bag)
    units = [_unit({w: c * math.log(1 + total / df[w]) for w, c in bag.items()}) for bag in bags]
    centroid: Counter[str] = Counter()
    for u in units:
        centroid.update(u)
    return [(_dot(u, centroid) - 1.0) / (total - 1) if u else 0.0 for u in units]


def _unit(vec: dict[str, float]) -> dict[str, float]:
    norm = math.sqrt(sum(v * v for v in vec.values()))
    return {w: v / norm for w, v in vec.items()} if norm else {}


def _dot(unit: dict[str, float], centroid: Mapping[str, float]) -> float:
    return sum(v * centroid[w] for w, v in unit.items())
