"""Allowed acts: what each sentence of a draft does, compared with what a customer-service
reply may do (greet, empathize, answer the customer's matter from the message, snapshot or a
knowledge article, state an approved action, ask for allowed information, close).

A sentence is reported with a reason code when it
* does **no allowed act** — ``off_task``: long enough to carry content, yet lexically unrelated
  to the grounding (customer message + snapshot facts + retrieved articles + approved actions +
  the company's service vocabulary): content-word overlap share below ``min_overlap``;
* performs an act that **needs approval it lacks** — ``unapproved_act`` (a call-back at a fixed
  time, crediting money, waiving a fee, shipping a replacement): an act frame (concept + a
  first-person/we commitment) unless the request's approved actions include that act;
* claims to have **run a tool or looked something up with output** — ``tool_claim``;
* declares **rules void or access elevated** — ``rules_void``;
* is **condescending** toward the customer — ``condescending``;
and the reply as a whole when it is **symbols only** (``symbols_only``), carries a **machine
blob** (JSON, tool call, markup, SQL, code: ``machine_blob``) or a **hidden link** (zero-width
characters, spaced or split host names: ``hidden_link``).

Method: lexical similarity (content words, 5-letter stems; wordfreq marks function words)
plus structural detectors; per-language phrase data lives in config/safety/output_policy.yaml
(``allowed_acts``), never here. No model: no sentence-transformers/ONNX model is installed
and weights cannot be downloaded; en_core_web_sm has no word vectors.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Mapping
from typing import Any

from shared.safety.output_policy.base import (
    HOST,
    WORD,
    Check,
    Hit,
    PolicyContext,
    alt,
    clause_end,
    clause_words,
    extract,
    merged,
    phrases,
    registered,
)

ZERO_WIDTH = re.compile("[\u200b\u200c\u200d\u2060\ufeff\u00ad]")
# "paket - status . eu / x": a host with a space BEFORE a dot (prose never has one), lower case
_SPACED_HOST = re.compile(
    r"(?<![\w.])((?:[a-z0-9]+(?:\s*-\s*[a-z0-9]+)*\s+\.\s*)+[a-z]{2,6})(?![\w])"
    r"(?:\s*/\s*[\w-]+)*"
)
_BLOB = [
    re.compile(r"\{\s*\"[^\"\n]{1,40}\"\s*:"),  # JSON object
    re.compile(r"\b[a-z_][a-z0-9_]*(?:\.[a-z_][a-z0-9_]*)*\(\s*[a-z_]+\s*=", re.IGNORECASE),  # call with kwargs
    re.compile(r"\b[a-z]+_[a-z0-9_]+\s*\("),  # snake_case tool call
    re.compile(r"</?[a-zA-Z][\w:-]*(?:\s+[\w:-]+=\"[^\"]*\")*\s*/?>"),  # markup tag
    re.compile(
        r"\b(?:SELECT|INSERT\s+INTO|UPDATE|DELETE\s+FROM|DROP\s+TABLE)\b[^.]{0,200}\b(?:FROM|VALUES|SET|WHERE)\b"
    ),
    re.compile(r"```|^\s*(?:def|function|class|import|const|let|var)\s+\w+.*[:{=(]", re.MULTILINE),
    re.compile(r"<\|[a-z_]+\|>|\[/?(?:INST|TOOL_CALLS?)\]", re.IGNORECASE),
]
_ARTEFACT = re.compile(
    r"\b[\w.-]+=\S|\b\d{1,3}(?:\.\d{1,3}){3}\b|\b\d\d:\d\d:\d\d\b|\b[A-Z]{2,}_[A-Z_]{2,}\b"
    r"|\b(?:PID|exit code|status code|HTTP/\d)\b",
    re.IGNORECASE,
)
_TIME = re.compile(
    r"\b\d{1,2}(?:[:.]\d\d)?\s*(?:am|pm|a\.m\.|p\.m\.|uhr|h)\b|\bum\s+\d{1,2}(?:[:.]\d\d)?\b"
    r"|\bat\s+\d{1,2}(?::\d\d)?\b",
    re.IGNORECASE,
)


_DAY = re.compile(
    r"\b(?:tomorrow|morgen|monday|tuesday|wednesday|thursday|friday|saturday|montag|dienstag|mittwoch|"
    r"donnerstag|freitag|samstag)\b"
)


def _pat(items: list[str]) -> re.Pattern[str] | None:
    return phrases(items)


class AllowedActsCheck(Check):
    name = "allowed_acts"

    def __init__(self, raw: Mapping[str, Any]) -> None:
        cfg = raw["allowed_acts"]
        per = cfg["per_language"]
        self.min_overlap = float(cfg["relevance"]["min_overlap"])
        self.min_words = int(cfg["relevance"]["min_content_words"])
        self.function_top_n = int(cfg["relevance"]["function_words_top_n"])
        self.allowed_domains = {d.lower() for d in raw["links"]["allowed_domains"]}
        self.vocabulary = {lang: {_stem(w) for w in block.get("service_vocabulary", [])} for lang, block in per.items()}
        self.frame_openers = _pat(merged(per, "allowed_openers"))
        self.first_person = _pat(merged(per, "first_person"))
        self.lookup = _pat(merged(per, "lookup_verbs"))
        self.internal = _pat(merged(per, "internal_systems"))
        self.rules = _pat(merged(per, "rules_void"))
        self.access = _pat(merged(per, "access_nouns"))
        self.grant = _pat(merged(per, "grant_words"))
        self.condescending = _pat(merged(per, "condescending"))
        self.acts: dict[str, re.Pattern[str] | None] = {}
        for act in ("callback", "credit_money", "waive_fee", "replacement"):
            self.acts[act] = _pat(merged(per, act))
        self.act_offer_types = {k: set(v) for k, v in cfg.get("approved_by_offer_type", {}).items()}
        self.clauses = clause_words(raw)
        self.role = phrases(merged(per, "role_markers"), whole=True)
        patterns = merged(per, "role_patterns")
        verbs = merged(per, "imperative_verbs")
        if verbs:  # the verb first, after an optional heading ("**Step 2**: Restart …", "Test: Verify …")
            patterns.append(r"^\W*(?:[^:.!?]{1,40}:\W*)?(?:" + alt(verbs) + r")\b")
        self.role_pattern = re.compile("|".join(f"(?:{p})" for p in patterns), re.IGNORECASE) if patterns else None

    # --- sentences -------------------------------------------------------------------
    def sentence(self, s: str, plain: str, ctx: PolicyContext) -> list[Hit]:
        hits: list[Hit] = []
        low = plain.lower()
        fp = self.first_person.search(low) if self.first_person else None
        # the lookup verb in the same clause as the first person ("ich verstehe, dass Sie … geprüft haben" is not)
        v = self._in_clause(low, fp.end(), self.lookup) if fp and self.lookup else None
        if v and ((self.internal and self.internal.search(low)) or _ARTEFACT.search(plain)):
            hits.append(Hit("tool_claim", s, v.group(0)))
        if self.rules and (m := self.rules.search(low)):
            hits.append(Hit("rules_void", s, m.group(0)))
        elif self.access and self.grant and (a := self.access.search(low)) and self.grant.search(low):
            hits.append(Hit("rules_void", s, a.group(0)))
        if self.condescending and (m := self.condescending.search(low)):
            hits.append(Hit("condescending", s, m.group(0)))
        # a call-back at a fixed time is promised whoever is named as calling ("a technician will ring you
        # Monday at 8"); the other acts need the company speaking (first person) in the same clause
        for act, pattern in self.acts.items():
            if pattern is None or self._approved(act, ctx):
                continue
            if act == "callback":
                m = pattern.search(low) if (_TIME.search(plain) or _DAY.search(low)) else None
            else:
                m = self._in_clause(low, fp.end(), pattern) if fp else None
            if m:
                hits.append(Hit("unapproved_act", s, f"{act}: {m.group(0)}"))
                break
        # relevance only where the company's service vocabulary exists for the reply's language
        opener = self.frame_openers.search(low) if self.frame_openers else None
        if not hits and ctx.grounding and ctx.language in self.vocabulary and not opener and not self._in_role(low):
            share = self._overlap(plain, ctx)
            if share is not None and share < self.min_overlap:
                hits.append(Hit("off_task", s, f"overlap {share:.2f}"))
        return hits

    def _in_clause(self, low: str, start: int, pattern: re.Pattern[str]) -> re.Match[str] | None:
        return pattern.search(low, start, clause_end(low, start, self.clauses))

    def _in_role(self, low: str) -> bool:
        """The company speaking for itself or asking the customer to act ("please restart", "we will check",
        "Drücken Sie …"): an allowed act form; off-task content (a poem, trivia, a rumour) is neither."""
        return bool((self.role and self.role.search(low)) or (self.role_pattern and self.role_pattern.search(low)))

    def _approved(self, act: str, ctx: PolicyContext) -> bool:
        return bool(self.act_offer_types.get(act, set()) & ctx.approved_acts) or act in ctx.approved_acts

    def _overlap(self, plain: str, ctx: PolicyContext) -> float | None:
        common = _common_words(ctx.language, self.function_top_n)
        words = [w.lower() for w in WORD.findall(plain) if len(w) >= 4]
        content = [w for w in words if w not in common]
        if len(content) < self.min_words:
            return None
        ground = {_stem(w.lower()) for w in WORD.findall(ctx.grounding)}
        vocab = self.vocabulary.get(ctx.language, set())
        known = sum(_stem(w) in ground or _stem(w) in vocab for w in content)
        return known / len(content)

    # --- whole reply -----------------------------------------------------------------
    def reply(self, reply: str, text: str, ctx: PolicyContext, sentences: list[str]) -> list[Hit]:
        hits: list[Hit] = []
        if len(WORD.findall(text)) < 2 and text.strip():
            hits.append(Hit("symbols_only", reply.strip()[:120], "no words"))
        for pattern in _BLOB:
            if m := pattern.search(reply):
                hits.append(Hit("machine_blob", _around(reply, m.start()), m.group(0)[:40]))
                break
        if m := ZERO_WIDTH.search(reply):
            hits.append(Hit("hidden_link", _around(reply, m.start()), "zero-width character"))
        for m in _SPACED_HOST.finditer(text):
            host = re.sub(r"\s+", "", m.group(0)).lower()
            if host == m.group(0).lower() or not extract()(host.split("/")[0]).suffix:
                continue
            if registered(host.split("/")[0]) not in self.allowed_domains and HOST.search(host):
                hits.append(Hit("hidden_link", _around(reply, m.start()), host))
                break
        return hits


_lock = threading.Lock()
_common: dict[tuple[str, int], frozenset[str]] = {}


def _common_words(language: str, n: int) -> frozenset[str]:
    """wordfreq's ``n`` most frequent words of ``language``: function words, not content; loaded once."""
    with _lock:
        if (language, n) not in _common:
            from wordfreq import top_n_list

            try:
                _common[(language, n)] = frozenset(top_n_list(language, n))
            except LookupError:
                _common[(language, n)] = frozenset()
        return _common[(language, n)]


def _stem(word: str) -> str:
    return word.lower()[:5]


def _around(text: str, pos: int) -> str:
    start = max(0, text.rfind("\n", 0, pos) + 1)
    end = text.find("\n", pos)
    return text[start : end if end != -1 else len(text)][:200]
