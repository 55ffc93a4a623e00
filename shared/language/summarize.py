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

        Centrality: cosine similarity of each sentence's bag of content words to the whole
        conversation (TextRank-style degree centrality), boosted by role: the customer's
        first problem statement, the agent's commitments/instructions, and late agent
        sentences (the resolution). Returned in conversation order.
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
        df = Counter(w for r in rows for w in r["bag"])
        total = len(rows)
        for r in rows:
            r["vec"] = {w: c * math.log(1 + total / df[w]) for w, c in r["bag"].items()}
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
        for i, r in enumerate(rows):
            others = [_cos(r["vec"], o["vec"]) for j, o in enumerate(rows) if j != i]
            centrality = sum(others) / len(others) if others else 0.0
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
            r["score"] = centrality + role
        best_problem = max((r for r in rows if r["speaker"] == "customer"), key=lambda r: r["score"], default=None)
        best_agent = max((r for r in rows if r["speaker"] == "agent"), key=lambda r: r["score"], default=None)
        chosen = [r for r in (best_problem, best_agent) if r is not None]
        for r in sorted(rows, key=lambda r: r["score"], reverse=True):
            if len(chosen) >= limit:
                break
            if r not in chosen:
                chosen.append(r)
        chosen.sort(key=lambda r: (r["turn"], rows.index(r)))
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


def _cos(a: dict[str, float], b: dict[str, float]) -> float:
    if not a or not b:
        return 0.0
    dot = sum(v * b.get(w, 0.0) for w, v in a.items())
    na = math.sqrt(sum(v * v for v in a.values()))
    nb = math.sqrt(sum(v * v for v in b.values()))
    return dot / (na * nb) if na and nb else 0.0
