"""Next steps from sentence structure, and an extractive conversation summary.

For every clause: who is the actor (speaker + grammatical subject: I / we / you / a team
or person / a thing or passive / none), which act it is (commitment, instruction,
request, question, offer, negation, completed fact, statement; conditional when it
depends on "if / once / sobald …"), and what the action is. English clauses come from
spaCy's dependency parse; German (no parser on the registry) from rule-based clause
analysis over spaCy's tokenizer. Words per language live in ``config/extraction.yaml``.

Owners: agent (the agent's own commitments, incl. asking another team), customer
(instructions and requests to the customer, the customer's own promises), backoffice
(a team, a third party, a passive process, or something the agent arranged for
someone else to do). Negations and questions are never actions; a low-confidence
action is kept and marked ``needs_review``.
"""

from __future__ import annotations

import math
import re
import threading
from collections import Counter, OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from shared.language.nlp import Pipelines, SentenceSplitter

# "completed" (done during the contact) is analysed but is not a next step.
ACTION_ACTS = ("commitment", "instruction", "request", "process", "receive", "completed_delegation",
               "present_statement")  # fmt: skip
_WORD = re.compile(r"[\wäöüß'](?:[\wäöüß'-]*[\wäöüß'])?", re.IGNORECASE)


@dataclass
class Clause:
    speaker: str
    sentence: str
    text: str
    act: str
    actor: str
    owner: str | None = None
    conditional: bool = False
    confidence: float = 0.0
    turn: int = 0
    needs_due: bool = False  # an action only when a deadline is stated (else it was done in the contact)
    untimed_confidence: float | None = None  # confidence when no deadline is stated
    later_stage: bool = False  # "…will be sent out today and should arrive on Saturday": same subject, next stage
    stage_text: str | None = None  # the last stage's words, whose time is the step's date
    condition: str | None = None  # "if it still isn't working by Friday": its checkpoint dates an untimed action

    @property
    def is_action(self) -> bool:
        return self.owner is not None and self.act in ACTION_ACTS


@dataclass
class Lang:
    words: dict[str, set[str]]
    phrases: dict[str, list[str]] = field(default_factory=dict)

    def has(self, kind: str, word: str) -> bool:
        return word.lower() in self.words.get(kind, set())

    def contains(self, kind: str, text: str) -> bool:
        low = " " + " ".join(_WORD.findall(text.lower())) + " "
        return any(f" {p} " in low for p in self.phrases.get(kind, []))


class Extractor:
    """Clauses and actions from a transcript; pipelines are loaded lazily by ``Pipelines``."""

    def __init__(self, path: Path, pipelines: Pipelines | None = None) -> None:
        raw = yaml.safe_load(path.read_text("utf-8"))
        self.version = str(raw["version"])
        self.review_below = float(raw["review_below"])
        self.conf = {k: float(v) for k, v in raw["confidence"].items()}
        self.langs: dict[str, Lang] = {}
        for code in ("en", "de"):
            table = raw[code]
            words = {k: {str(w).lower() for w in v} for k, v in table.items() if isinstance(v, list)}
            phrases = {k: [" ".join(_WORD.findall(str(w).lower())) for w in v] for k, v in table.items()
                       if isinstance(v, list)}  # fmt: skip
            self.langs[code] = Lang(words, phrases)
        self.splitter = SentenceSplitter.from_config(path)
        self.pipelines = pipelines or Pipelines()
        self.cache_size = int(raw.get("cache_sentences", 4096))
        self._cache: OrderedDict[tuple[str, str, str], list[Clause]] = OrderedDict()
        self._lock = threading.Lock()

    def lang(self, language: str) -> tuple[str, Lang]:
        code = language if language in self.langs else "en"
        return code, self.langs[code]

    # --- clauses ---------------------------------------------------------------------

    def clauses(self, transcript: list[dict[str, Any]], language: str) -> list[Clause]:
        code, lang = self.lang(language)
        items: list[tuple[int, str, str]] = []
        for n, turn in enumerate(transcript):
            if turn["speaker"] not in ("agent", "customer"):
                continue
            for sentence in self.splitter.split(turn["text"]):
                if turn["speaker"] == "customer" and not self._customer_may_commit(sentence, lang):
                    continue  # a customer's sentence is a task only when they promise something themselves
                items.append((turn.get("i", n), turn["speaker"], sentence))
        if not items:
            return []
        todo = list(dict.fromkeys((speaker, s) for _, speaker, s in items if (code, speaker, s) not in self._cache))
        if todo:
            # A fragment after a pause ("Let me check... promo codes are valid") is parsed as a sentence.
            docs = self.pipelines.pipe(code, [s[:1].upper() + s[1:] for _, s in todo])
            for (speaker, sentence), doc in zip(todo, docs, strict=True):
                found = self._en(doc, speaker, lang) if code == "en" else self._de(doc, speaker, lang)
                self._remember((code, speaker, sentence), found)
        out: list[Clause] = []
        for i, speaker, sentence in items:
            # "Ich rufe Ihr Konto auf...", "hold both buttons for five seconds...": said while doing it
            trailing = speaker == "agent" and sentence.rstrip().endswith(("...", "…"))
            out += [replace(c, turn=i, sentence=sentence, needs_due=c.needs_due or (
                trailing and c.act in ("commitment", "instruction", "request") and c.actor != "team"))
                for c in self._cache[(code, speaker, sentence)]]  # fmt: skip
        return out

    def _remember(self, key: tuple[str, str, str], clauses: list[Clause]) -> None:
        """Per-instance LRU of sentence analyses: a live call re-requests with a growing transcript."""
        with self._lock:
            self._cache[key] = clauses
            self._cache.move_to_end(key)
            while len(self._cache) > self.cache_size:
                self._cache.popitem(last=False)

    def non_task(self, sentence: str, language: str) -> bool:
        """The sentence is only a negation, question or offer (a model's action quoting it is suspect)."""
        clauses = self.clauses([{"speaker": "agent", "text": sentence}], language)
        return bool(clauses) and not any(c.is_action for c in clauses) and any(
            c.act in ("negation", "question", "offer") for c in clauses)

    def _customer_may_commit(self, sentence: str, lang: Lang) -> bool:
        words = {w.lower() for w in _WORD.findall(sentence)}
        return bool(words & (lang.words["first_person"] | lang.words["first_plural"] | {"i'll", "i'm", "we'll"}))

    def actions(self, transcript: list[dict[str, Any]], language: str,
                find_due: Callable[[str, str], str | None]) -> list[dict[str, Any]]:  # fmt: skip
        """The clauses that are next steps, with due words, confidence and review flag."""
        found: list[dict[str, Any]] = []
        turns: list[int] = []
        seen: set[str] = set()
        _, lang = self.lang(language)
        clauses = self._merge_stages(self.clauses(transcript, language))
        per_sentence = Counter(c.sentence for c in clauses if c.is_action)
        hypothetical = self._hypothetical_turns(clauses)
        for n, c in enumerate(clauses):
            if not c.is_action:
                continue
            if c.conditional and c.turn in hypothetical:
                continue  # "if A, X; if B, Y — which applies?": options put to the customer, not steps yet
            if c.act == "receive" and find_due(c.sentence, language) is None and any(
                    o.turn == c.turn and o.act == "completed" and (o.sentence == c.sentence or i < n)
                    for i, o in enumerate(clauses)):  # fmt: skip
                continue  # "I've applied it; you'll see the new total": the visible effect of what was just done
            if c.owner == "backoffice" and lang.contains("hedges", c.text) and find_due(c.text, language) is None:
                continue  # "he probably needs a log file": a guess without a time is no commitment
            if c.act == "receive" and lang.contains("immediate", c.text):
                continue  # "you get the code straight away": it happens during the contact
            if c.speaker == "agent" and c.act in ("request", "instruction") and find_due(c.sentence, language) is None \
                    and self._reported_done(transcript, c.turn, lang):
                continue  # "Could you send a screenshot?" — "Here it is.": done during the contact
            key = c.text.lower()
            if key in seen:
                continue
            seen.add(key)
            due = (find_due(c.stage_text, language) if c.stage_text else None) or find_due(c.text, language)
            if due is None and per_sentence[c.sentence] == 1:
                due = find_due(c.sentence, language)
            if due is None and c.condition:
                due = find_due(c.condition, language)  # "If it still fails by Friday, call us": checked on Friday
            if due is None and c.condition and lang.contains("persistence", c.condition):
                # "Try again tomorrow morning. If it still fails, call us": checked when the step before it is due
                due = next((a["due_text"] for a, t in zip(reversed(found), reversed(turns), strict=True)
                            if t == c.turn and a["due_text"]), None)  # fmt: skip
            if due is None and (c.needs_due or c.act == "present_statement"):
                continue  # "I'll do that", "the credit is applied": nothing open without a stated time
            confidence = c.confidence
            if due is None and c.untimed_confidence is not None:
                confidence = min(confidence, c.untimed_confidence)
            if c.act in ("process", "present_statement") and due is not None:
                confidence = max(confidence, self.conf["process"])
            confidence = round(confidence, 2)
            found.append({"owner": c.owner, "sentence": c.sentence, "description": c.text, "due_text": due,
                          "act": c.act, "conditional": c.conditional, "confidence": confidence,
                          "needs_review": confidence < self.review_below, "speaker": c.speaker})  # fmt: skip
            turns.append(c.turn)
        return self._merge_acceptances(found, turns, lang)

    @staticmethod
    def _merge_stages(clauses: list[Clause]) -> list[Clause]:
        """"The SIM will be sent out today and should arrive on Saturday": one step; its date is the last stage's."""
        out: list[Clause] = []
        for c in clauses:
            prev = out[-1] if out else None
            if c.later_stage and prev is not None and prev.sentence == c.sentence and prev.owner == "backoffice" \
                    and prev.is_action and c.is_action:
                a, b = c.sentence.find(prev.text), c.sentence.find(c.text)
                text = c.sentence[a:b + len(c.text)] if 0 <= a < b else f"{prev.text} {c.text}"
                out[-1] = replace(prev, text=text, stage_text=c.text)
                continue
            out.append(c)
        return out

    def _merge_acceptances(self, found: list[dict[str, Any]], turns: list[int], lang: Lang) -> list[dict[str, Any]]:
        """"Could you send us a photo?" — "I'll send the photos tonight": one step (the customer's), not two.

        A customer's promise right after an agent's untimed request for one thing that shares a content
        word with it (or only points back to it: "I'll do it tonight") is that request accepted: it is
        dropped and its time becomes the request's."""
        out: list[dict[str, Any]] = []
        out_turns: list[int] = []
        for a, turn in zip(found, turns, strict=True):
            if a["speaker"] == "customer" and a["act"] == "commitment":
                # Only an untimed request for one thing: a request with its own deadline and a promise of an
                # earlier time are two dates; a request for several things may be accepted piece by piece.
                asked = [i for i, (b, t) in enumerate(zip(out, out_turns, strict=True))
                         if b["speaker"] == "agent" and b["owner"] == "customer" and t < turn
                         and t == max(out_turns[j] for j, o in enumerate(out) if o["speaker"] == "agent")
                         and b["due_text"] is None and not set(_WORD.findall(b["description"].lower()))
                         & lang.words["and_words"]]  # fmt: skip
                stems = _stems(a["description"], lang) - _stems(a["due_text"] or "", lang)
                shared = [i for i in asked if stems & _stems(out[i]["description"], lang)]
                anaphoric = not stems - _stems(" ".join(lang.words["anaphora"]), lang)
                target = shared[0] if shared else (asked[0] if len(asked) == 1 and anaphoric else None)
                if target is not None:
                    request = out[target]
                    if a["due_text"] is not None:
                        request["due_text"] = a["due_text"]
                        request["confidence"] = round(max(request["confidence"], self.conf["request_question"]), 2)
                        request["needs_review"] = request["confidence"] < self.review_below
                    continue
            out.append(a)
            out_turns.append(turn)
        return out

    @staticmethod
    def _hypothetical_turns(clauses: list[Clause]) -> set[int]:
        """Turns that lay out two or more conditional branches and then ask the customer something."""
        out = set()
        for turn in {c.turn for c in clauses}:
            mine = [c for c in clauses if c.turn == turn and c.speaker == "agent"]
            branches = {c.sentence for c in mine if c.conditional}
            conditions = sum(1 for c in mine if c.conditional)
            last_branch = max((i for i, c in enumerate(mine) if c.conditional), default=None)
            asks = last_branch is not None and any(c.act == "question" for c in mine[last_branch:])
            if conditions >= 2 and asks and branches:
                out.add(turn)
        return out

    def _reported_done(self, transcript: list[dict[str, Any]], turn: int, lang: Lang) -> bool:
        """The customer's next turn says the request is already done ("here it is", "did that already")."""
        for n, t in enumerate(transcript):
            if t.get("i", n) <= turn or t["speaker"] not in ("agent", "customer"):
                continue
            if t["speaker"] == "agent":
                return False
            first = next(iter(self.splitter.split(t["text"])), "")
            return lang.contains("done_replies", first)
        return False

    def _make(self, speaker: str, sentence: str, text: str, act: str, actor: str, owner: str | None,
              conf_key: str | None, conditional: bool) -> Clause:  # fmt: skip
        conf = self.conf.get(conf_key or "", 0.0)
        if conditional:
            conf *= self.conf["conditional_factor"]
        text = text.strip(" ,;:-–")
        return Clause(speaker=speaker, sentence=sentence, text=text or sentence, act=act, actor=actor,
                      owner=owner, conditional=conditional, confidence=conf)  # fmt: skip

    # --- English: dependency parse ------------------------------------------------------

    def _en(self, doc: Any, speaker: str, lang: Lang) -> list[Clause]:
        sentence = doc.text
        question = sentence.rstrip().endswith("?")
        preds = [t for t in doc if t.dep_ == "ROOT" or (
            t.dep_ in ("conj", "parataxis") and t.pos_ in ("VERB", "AUX") and t.head.pos_ in ("VERB", "AUX")
            and (_subject(t) is not None or (_subject(t.head) is None and t.tag_ == "VB" and t.head.tag_ == "VB")
                 or any(c.dep_ == "aux" for c in t.children)))
            or (t.dep_ == "ccomp" and t.i < t.head.i and _subject(t) is not None)]
        # A semicolon joins two independent clauses, whatever the parser attached them to.
        part = [0] * len(doc)
        for t in doc:
            part[t.i] = part[t.i - 1] + (doc[t.i - 1].text == ";") if t.i else 0
        ultimatum = lang.words["ultimatum_marks"] - {"or"}
        for t in doc:  # "Please sign it, otherwise it lapses": the parser hangs the instruction on the consequence
            if t.lower_ in ultimatum and t.head.i > t.i:
                part[t.i:] = [x + 1 for x in part[t.i:]]
        preds += [t for t in doc if t.dep_ == "advcl" and part[t.i] != part[t.head.i] and t not in preds]
        separate = {p.i for p in preds}
        out = []
        for p in preds:
            cond_mark = None
            cond_negated = False
            condition = None
            excluded: set[int] = set()
            for child in p.children:
                if child.i in separate:
                    excluded |= {t.i for t in child.subtree}
                    excluded |= {c.i for c in p.children if c.dep_ == "cc" and c.i < child.i}
                if child.dep_ == "advcl" and _mark(child, lang) and part[child.i] == part[p.i]:
                    cond_mark = _mark(child, lang)
                    cond_negated = cond_mark == "unless" or any(t.dep_ == "neg" for t in child.subtree)
                    condition = "".join(t.text_with_ws for t in child.subtree).strip()
                    excluded |= {t.i for t in child.subtree}
            for other in preds:  # a separate clause inside this one's subtree (comma splice)
                if other is not p and other.i in {t.i for t in p.subtree}:
                    excluded |= {t.i for t in other.subtree}
            tokens = [t for t in p.subtree if t.i not in excluded and part[t.i] == part[p.i]]
            text = "".join(t.text_with_ws for t in tokens).strip()
            if (p.dep_ == "advcl" and part[p.i] == part[p.head.i]) or not text:
                continue
            conditional = cond_mark is not None or _mark(p, lang) is not None
            if _en_consequence(p, lang) or (speaker == "customer" and cond_negated):
                # "…, otherwise I'll cancel", "if you don't refund it I'll go to the regulator": a threat or a
                # warned consequence (a sentiment/guardrail signal), not a next step
                out.append(self._make(speaker, sentence, text, "ultimatum", "none", None, None, False))
                continue
            if _en_alternative(p, lang):  # "you can call us or visit a store": an option, not a step
                out.append(self._make(speaker, sentence, text, "option", "none", None, None, False))
                continue
            out += [replace(c, condition=condition) if condition and c.conditional else c
                    for c in self._en_decide(p, speaker, sentence, text, question, conditional, lang)]
        return out

    def _en_decide(self, p: Any, speaker: str, sentence: str, text: str, question: bool, conditional: bool,
                   lang: Lang) -> list[Clause]:  # fmt: skip
        make = self._make
        low = sentence.lower()
        verb, mood = _en_verb(p, lang)
        subj = _subject(p) or (_subject(p.head) if p.dep_ == "conj" else None)
        actor = "self" if mood == "let_me" else _en_actor(subj, p, lang)
        negated = _en_negated(p, verb, lang)
        auxes = {c.lemma_.lower() for v in {p, verb} for c in v.children if c.dep_ in ("aux", "auxpass")}
        passive = any(c.dep_ in ("auxpass", "nsubjpass") for v in {p, verb} for c in v.children)
        lemma = verb.lemma_.lower()
        obj = next((c for c in verb.children if c.dep_ in ("dobj", "obj")), None)

        def none(act: str) -> list[Clause]:
            return [make(speaker, sentence, text, act, actor, None, None, False)]

        def one(act: str, owner: str, key: str) -> list[Clause]:
            c = make(speaker, sentence, text, act, actor, owner, key, conditional)
            c.later_stage = p.dep_ == "conj" and _subject(p) is None and owner == "backoffice"
            return [c]

        purpose = actor == "you" and mood in ("present", "ability") and any(
            c.dep_ in ("advmod", "mark") and c.i < p.i and c.lower_ in lang.words["purpose_marks"] for c in p.children)
        if purpose or lang.contains("self_acting", text):
            return none("statement")  # "it restarts by itself", "so you have time to …": nothing to do

        if speaker == "customer":
            if actor in ("self", "we") and mood == "future" and not question and not negated:
                if lemma in lang.words["customer_non_tasks"]:
                    return none("statement")
                c = make(speaker, sentence, text, "commitment", actor, "customer", "commitment", conditional)
                c.needs_due = lemma == "do" or (obj is not None and obj.text.lower() in lang.words["anaphora"])
                return [c]
            return none("question" if question else "statement")

        if lang.contains("offer_markers", low) and question:
            return none("offer")
        if negated:
            return none("negation")
        if mood == "let_know":
            return none("question")
        if question:
            if actor == "you" and (auxes & lang.words["ability_aux"] | auxes & lang.words["future_aux"]) \
                    and lemma not in lang.words["info_verbs"]:
                if lang.contains("in_contact_markers", low):
                    return none("question")  # "could you restart it now / for me?"
                c = make(speaker, sentence, text, "request", actor, "customer", "request_question", conditional)
                c.untimed_confidence = self.conf["request_untimed"]  # without a time it may be done on the line
                return [c]
            return none("question")

        if actor in ("self", "we"):
            if mood in ("future", "let_me", "progressive", "obligation"):
                if mood == "let_me" and lemma in lang.words["in_contact_verbs"]:
                    return none("statement")  # "let me check…" happens during the contact
                if _delegated(verb, lang):
                    return one("commitment", "backoffice", "commitment")
                if lemma in lang.words["stative_verbs"] and mood != "let_me":
                    return none("statement")
                out = one("commitment", "agent", "commitment")
                # "I'll do that", "let's do both": points back to something said; a step only with a time
                out[0].needs_due = lemma == "do" and (obj is None or obj.lower_ in lang.words["anaphora"])
                decided = _asked_team(verb, lang)
                if decided is not None:  # "I'll ask my supervisor to waive it": the team decides
                    out.append(make(speaker, sentence, decided, "commitment", "team", "backoffice", "process",
                                    conditional))  # fmt: skip
                return out
            if mood == "perfect":
                if _delegated(verb, lang) or (obj is not None and obj.lemma_.lower() in lang.words["team_nouns"]
                                              and lemma in lang.words["delegation_verbs"]):
                    return one("completed_delegation", "backoffice", "completed_delegation")
                return none("completed")
            return none("statement")
        if actor == "you":
            if passive:
                return one("process", "backoffice", "process")
            if lemma in lang.words["receive_verbs"] and mood in ("future", "obligation", "present"):
                (c,) = one("receive", "backoffice", "receive")
                c.untimed_confidence = self.conf["request_untimed"]  # "you'll see it" without a time: agent checks
                return [c]
            if mood == "obligation":
                return one("instruction", "customer", "instruction")
            if mood == "future":
                if lemma in lang.words["receive_verbs"]:
                    (c,) = one("receive", "backoffice", "receive")
                    c.untimed_confidence = self.conf["request_untimed"]
                    return [c]
                return one("instruction", "customer", "request_question")
            return none("statement")
        already = any(c.lower_ in lang.words["already"] for v in {p, verb} for c in v.children)
        if already and actor in ("team", "thing", "you"):
            return none("completed")  # "the email should already be in your inbox": done, not pending
        if actor in ("team", "thing"):
            if mood == "obligation" and actor == "thing" and not passive and "should" not in auxes:
                return one("instruction", "customer", "request_question")  # "someone has to be at home"
            if mood in ("future", "progressive", "obligation"):
                key = "commitment" if actor == "team" else "process"
                return one(key, "backoffice", key)
            if mood == "present" and actor == "thing" and passive:
                return one("present_statement", "backoffice", "present_statement")
            return none("statement")
        if mood == "imperative" and _en_status_quo(verb, lang):
            (c,) = one("instruction", "customer", "instruction")
            c.needs_due = True  # "just leave it switched on": nothing to do, unless for a stated time ("tonight")
            return [c]
        if mood == "imperative" and lemma not in lang.words["courtesy_imperatives"] \
                and not lang.contains("courtesy_imperatives", low) and verb.text.lower() == lemma \
                and not (obj is None and sentence.rstrip().endswith("!")):
            return one("instruction", "customer", "instruction")
        return none("statement")

    # --- German: rule-based clause analysis ------------------------------------------------

    def _de(self, doc: Any, speaker: str, lang: Lang) -> list[Clause]:
        sentence = doc.text
        question = sentence.rstrip().endswith("?")
        tokens = [t.text for t in doc]
        segments = _de_segments(tokens, lang)
        out: list[Clause] = []
        pending_condition = False
        condition_negated = False
        condition_text: str | None = None
        last_actor: str | None = None
        prev_words: list[str] = []
        for kind, seg, main_len in segments:
            words = [w for w in seg[:main_len] if _WORD.fullmatch(w)]
            joined_by = words[0].lower() if words and words[0].lower() in lang.words["clause_conjunctions"] else None
            if joined_by:
                words = words[1:]
            if not words:
                continue
            if kind == "condition":
                pending_condition = True
                condition_negated = bool({w.lower() for w in words} & lang.words["negations"])
                condition_text = _join(seg)
                if out:  # "Ich rufe Sie an, sobald …": the condition belongs to the clause before it
                    out[-1].conditional = True
                    out[-1].condition = out[-1].condition or condition_text
                    out[-1].confidence *= self.conf["conditional_factor"] if out[-1].is_action else 1.0
                continue
            text = _join(seg[1:] if seg[0].lower() in lang.words["clause_conjunctions"] else seg)
            actor = _de_actor(words, lang) or (last_actor if kind == "continued" else None) or "none"
            last_actor = actor if actor != "none" else last_actor
            possible_before = bool({w.lower() for w in prev_words} & lang.words["ability_aux"]) and not (
                {w.lower() for w in prev_words} & lang.words["future_aux"])
            prev_words = words
            if words[0].lower() in lang.words["ultimatum_marks"] or (speaker == "customer" and (
                    (joined_by == "oder" and actor in ("self", "we")) or (pending_condition and condition_negated))):
                # "…, sonst kündige ich" / "wenn das nicht klappt, gehe ich zum Anwalt": a threat or a warned
                # consequence (a sentiment/guardrail signal), never a task
                out.append(self._make(speaker, sentence, text, "ultimatum", actor, None, None, False))
                pending_condition = False
                continue
            if joined_by == "oder" and possible_before:  # "Sie können anrufen, oder er trägt Sie ein": an option
                out.append(self._make(speaker, sentence, text, "option", actor, None, None, False))
                pending_condition = False
                continue
            clause = self._de_decide(words, speaker, sentence, text, question, pending_condition, actor, lang)
            if pending_condition and clause.conditional:
                clause.condition = condition_text
            out.append(clause)
            sub = [w for w in seg[main_len:] if _WORD.fullmatch(w)]
            finite = _de_finite(words, lang)
            if (clause.owner == "agent" and finite is not None and finite.lower() in lang.words["ask_verbs"]
                    and any(w.lower() in lang.words["team_nouns"] for w in words) and sub):
                # "Ich frage meine Vorgesetzte, ob wir die Gebühr erlassen können": the team decides
                out.append(self._make(speaker, sentence, _join(seg[main_len:]), "commitment", "team", "backoffice",
                                      "process", pending_condition))  # fmt: skip
            pending_condition = False
        return out

    def _de_decide(self, words: list[str], speaker: str, sentence: str, text: str, question: bool,
                   conditional: bool, actor: str, lang: Lang) -> Clause:  # fmt: skip
        make = self._make
        low = [w.lower() for w in words]
        lowset = set(low)
        negated = bool(lowset & lang.words["negations"])
        future = bool(lowset & lang.words["future_aux"])
        obligation = bool(lowset & lang.words["obligation_aux"])
        ability = bool(lowset & lang.words["ability_aux"])
        participle_end = _de_participle(low[-1], lang) if low else False
        perfect = bool(lowset & lang.words["perfect_aux"]) and participle_end and not future
        passive = future and participle_end and actor not in ("self", "we")
        please = bool(lowset & lang.words["please"])
        imperative = len(words) > 1 and words[1] == "Sie" and low[0] not in lang.words["question_words"] \
            and low[0] not in lang.words["ability_aux"] | lang.words["future_aux"] | lang.words["perfect_aux"]
        finite = _de_finite(words, lang)
        stative = finite is not None and finite.lower() in lang.words["stative_verbs"]

        past = bool(lowset & lang.words["past_forms"])
        in_contact = bool(lowset & lang.words["in_contact_markers"]) or lang.contains("in_contact_markers",
                                                                                       " ".join(low))  # fmt: skip
        copula = finite is not None and finite.lower() in lang.words["copula_verbs"] and not participle_end
        if actor == "thing" and not participle_end and not future:  # "Die Rechnung ist erst am 9. fällig"
            copula = copula or bool(set(low[:6]) & lang.words["copula_verbs"])
        already = bool(lowset & lang.words["already"])
        if future and participle_end and "werden" not in low[-2:]:
            future = False  # "wird … verrechnet" is the present passive, not a future
            passive = actor not in ("self", "we")

        if speaker == "customer":
            if actor in ("self", "we") and not question and not negated and not past and not perfect and not stative \
                    and not ability:
                c = make(speaker, sentence, text, "commitment", actor, "customer", "commitment", conditional)
                c.needs_due = not future  # "Mach ich." / "ich hab ein neues Handy": a promise needs a time
                return c
            return make(speaker, sentence, text, "question" if question else "statement", actor, None, None, False)
        if past:
            return make(speaker, sentence, text, "statement", actor, None, None, False)

        joined = " ".join(w for w in low if w not in lang.words["please"])
        if question and lang.contains("offer_markers", joined):
            return make(speaker, sentence, text, "offer", actor, None, None, False)
        if negated:
            return make(speaker, sentence, text, "negation", actor, None, None, False)
        if lang.contains("let_know", joined):
            return make(speaker, sentence, text, "question", actor, None, None, False)
        if question:
            verb_last = low[-1]
            if actor == "you" and ability and verb_last not in lang.words["info_verbs"] and not in_contact:
                c = make(speaker, sentence, text, "request", actor, "customer", "request_question", conditional)
                c.untimed_confidence = self.conf["request_untimed"]
                return c
            return make(speaker, sentence, text, "question", actor, None, None, False)

        if actor in ("self", "we"):
            if perfect:
                if low[-1] in lang.words["delegation_verbs"] and any(
                        any(w.endswith(t) for t in lang.words["team_nouns"]) for w in low):
                    return make(speaker, sentence, text, "completed_delegation", actor, "backoffice",
                                "completed_delegation", conditional)  # fmt: skip
                return make(speaker, sentence, text, "completed", actor, "agent", "completed", conditional)
            if (ability and not future) or (stative and not future):
                return make(speaker, sentence, text, "statement", actor, None, None, False)
            c = make(speaker, sentence, text, "commitment", actor, "agent", "commitment", conditional)
            # "Ich schaue mal nach…", "ich öffne kurz Ihr Konto": done while on the line, unless a time is said
            c.needs_due = not future and (in_contact or (finite is not None and finite.lower() in
                                                         lang.words["in_contact_verbs"]))  # fmt: skip
            # "machen wir beides", "das mache ich": points back to something said; a step only with a time
            c.needs_due = c.needs_due or bool(lowset & lang.words["do_verbs"] and lowset & lang.words["anaphora"])
            return c
        if actor == "you":
            if imperative and low[0] in lang.words["status_quo_verbs"] and (
                    low[-1] in lang.words["status_quo_ends"] or _de_participle(low[-1], lang)):
                c = make(speaker, sentence, text, "instruction", actor, "customer", "instruction", conditional)
                c.needs_due = True  # "Lassen Sie es an": nothing to do, unless for a stated time ("heute Nacht")
                return c
            if lowset & lang.words["receive_verbs"] and not obligation:
                c = make(speaker, sentence, text, "receive", actor, "backoffice", "receive", conditional)
                c.untimed_confidence = self.conf["request_untimed"]
                return c
            if imperative or please or obligation:
                c = make(speaker, sentence, text, "instruction", actor, "customer", "instruction", conditional)
                c.needs_due = in_contact  # "Melden Sie sich bitte jetzt einmal an": done on the line
                return c
            if lowset & lang.words["receive_verbs"]:
                return make(speaker, sentence, text, "receive", actor, "backoffice", "receive", conditional)
            return make(speaker, sentence, text, "statement", actor, None, None, False)
        if lang.contains("self_acting", joined):  # "sie aktiviert sich von selbst": nobody has to act
            return make(speaker, sentence, text, "statement", actor, None, None, False)
        if not _de_has_verb(words, lang):  # "Ihr Kundenservice-Team", ", spätestens einen Monat vorher": no clause
            return make(speaker, sentence, text, "statement", actor, None, None, False)
        if already and actor in ("team", "thing", "you"):  # "die Mail ist schon unterwegs": done, not pending
            return make(speaker, sentence, text, "completed", actor, None, None, False)
        if actor in ("team", "thing"):
            if perfect or copula:
                return make(speaker, sentence, text, "statement", actor, None, None, False)
            if actor == "thing" and obligation and not passive:  # "morgen muss eine volljährige Person da sein"
                return make(speaker, sentence, text, "instruction", actor, "customer", "request_question", conditional)
            if ability and not future:  # "dann kann er Ihnen eine Option buchen": a possibility, not a promise
                return make(speaker, sentence, text, "statement", actor, None, None, False)
            if actor == "team":
                return make(speaker, sentence, text, "commitment", actor, "backoffice", "commitment", conditional)
            if future:
                return make(speaker, sentence, text, "process", actor, "backoffice", "process", conditional)
            if passive:
                return make(speaker, sentence, text, "present_statement", actor, "backoffice", "present_statement",
                            conditional)  # fmt: skip
            if finite is not None and not stative:
                return make(speaker, sentence, text, "present_statement", actor, "backoffice", "present_statement",
                            conditional)  # fmt: skip
            return make(speaker, sentence, text, "statement", actor, None, None, False)
        if please and not question:
            return make(speaker, sentence, text, "instruction", actor, "customer", "instruction", conditional)
        if passive:  # "alle drei werden morgen verschickt": an impersonal process, kept when a time is said
            return make(speaker, sentence, text, "present_statement", actor, "backoffice", "present_statement",
                        conditional)  # fmt: skip
        return make(speaker, sentence, text, "statement", actor, None, None, False)

    # --- extractive summary ----------------------------------------------------------------

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
                words = [w for w in _WORD.findall(s.lower()) if w not in stop and len(w) > 1 and not w.isdigit()]
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
        first_customer = next((i for i, r in enumerate(rows) if r["speaker"] == "customer" and (
            lang.contains("problem_cues", r["text"].lower()) or len(r["bag"]) >= 4)), None)
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


# --- helpers -----------------------------------------------------------------------------

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


def _subject(t: Any) -> Any:
    return next((c for c in t.children if c.dep_ in ("nsubj", "nsubjpass", "expl")), None)


def _mark(t: Any, lang: Lang) -> str | None:
    marks = [c for c in t.children if c.dep_ in ("mark", "advmod") and c.i < t.i]
    text = " ".join(c.text.lower() for c in sorted(marks, key=lambda c: c.i))
    for m in marks:
        if m.text.lower() in lang.words["conditional_marks"]:
            return m.text.lower()
    if text and lang.contains("conditional_marks", text):
        return text
    return None


def _en_verb(p: Any, lang: Lang) -> tuple[Any, str]:
    """(main verb, mood) with mood in future, obligation, progressive, perfect, let_me, let_know,
    imperative, present, past."""
    children = list(p.children)
    lemma = p.lemma_.lower()
    aux = [c for c in children if c.dep_ in ("aux", "auxpass")]
    aux_l = {c.lemma_.lower() for c in aux} | {c.text.lower() for c in aux}
    xcomp = next((c for c in children if c.dep_ == "xcomp" and c.pos_ in ("VERB", "AUX")), None)
    if lemma == "let":
        who = next((c for c in p.subtree if c.text.lower() in ("me", "us", "'s") and c.i > p.i), None)
        comp = next((c for c in children if c.dep_ in ("ccomp", "xcomp")), None)
        if who is not None and comp is not None:
            if comp.lemma_.lower() == "know" or comp.lemma_.lower() in ("tell",):
                return comp, "let_know"
            return comp, "let_me"
    if lemma == "go" and p.tag_ == "VBG" and xcomp is not None:
        return xcomp, "future"
    if xcomp is not None and (lemma in ("need", "have", "require") or
                              (lemma == "be" and any(c.lemma_.lower() == "require" for c in children))):
        return xcomp, "obligation"
    if aux_l & lang.words["future_aux"]:
        return p, "future"
    if aux_l & lang.words["obligation_aux"]:
        return p, "obligation"
    if "have" in aux_l and p.tag_ == "VBN":
        return p, "perfect"
    if p.tag_ == "VBG" and "be" in aux_l:
        return p, "progressive"
    if aux_l & lang.words["ability_aux"]:
        return p, "ability"
    if p.tag_ == "VB" and _subject(p) is None:
        return p, "imperative"
    if p.tag_ in ("VBD",) or (p.tag_ == "VBN" and "be" not in aux_l) or any(
            c.tag_ == "VBD" for c in aux):
        return p, "past"
    return p, "present"


def _en_consequence(p: Any, lang: Lang) -> bool:
    """The clause is introduced by "otherwise / or else / or" right before its subject or verb."""
    marks = lang.words["ultimatum_marks"]
    if any(c.dep_ in ("advmod", "cc") and c.i < p.i and c.lower_ in marks - {"or"} for c in p.children):
        return True
    subj = _subject(p)
    start = subj.left_edge.i if subj is not None else p.i
    before = [p.doc[i].lower_ for i in range(max(start - 2, 0), start)]
    if any(w in marks and w != "or" for w in before):
        return True
    return subj is not None and bool(before) and before[-1] == "or"  # "…by Friday or I'll cancel"


def _en_status_quo(verb: Any, lang: Lang) -> bool:
    """'leave it plugged in', 'keep the box switched on', 'leave it as it is': keep a state, no task."""
    if verb.lemma_.lower() not in lang.words["status_quo_verbs"]:
        return False
    heads = [verb] + [c for c in verb.children if c.dep_ in ("dobj", "obj")]
    return any(c.dep_ in ("ccomp", "xcomp", "oprd", "acomp", "acl") and c.tag_ in ("VBN", "VBG", "JJ")
               or (c.dep_ in ("prt", "advmod") and c.lower_ in ("on", "in", "running", "alone"))
               for h in heads for c in h.children)  # fmt: skip


def _en_alternative(p: Any, lang: Lang) -> bool:
    """'You can call us, or visit a store': the branch after "or" of a possibility is a possibility."""
    if p.dep_ != "conj" or not any(c.dep_ == "cc" and c.lower_ == "or" for c in p.head.children):
        return False
    head_aux = {c.lower_ for c in p.head.children if c.dep_ == "aux"}
    return bool(head_aux & lang.words["ability_aux"])


def _en_actor(subj: Any, p: Any, lang: Lang) -> str:
    if subj is None:
        return "none"
    word = subj.text.lower()
    if word in lang.words["first_person"]:
        return "self"
    if word in lang.words["first_plural"]:
        return "we"
    if word in lang.words["second_person"]:
        if subj.dep_ == "nsubjpass" and _by_agent(p, lang):
            return "team"
        return "you"
    if word in lang.words["third_party_pronouns"]:
        return "team"
    lemmas = {subj.lemma_.lower()} | {c.lemma_.lower() for c in subj.children if c.dep_ in ("compound", "amod")}
    if lemmas & lang.words["team_nouns"]:
        return "team"
    if subj.dep_ == "expl":
        return "none"
    return "thing"


def _by_agent(p: Any, lang: Lang) -> bool:
    for c in p.children:
        if c.dep_ == "agent":
            return any(t.lemma_.lower() in lang.words["team_nouns"] for t in c.subtree)
    return False


def _en_negated(p: Any, verb: Any, lang: Lang) -> bool:
    for v in {p, verb}:
        for c in v.children:
            if c.dep_ == "neg":
                return True
            if c.dep_ in ("dobj", "nsubj", "attr", "nsubjpass") and c.lemma_.lower() in ("nothing", "none", "nobody"):
                return True
            if c.dep_ in ("dobj", "attr", "nsubj", "nsubjpass") and any(
                    d.dep_ == "det" and d.lemma_.lower() == "no" for d in c.children):
                return True
    return False


def _delegated(verb: Any, lang: Lang) -> bool:
    """'arrange for a courier to collect it', 'have a technician visit' — someone else acts."""
    if verb.lemma_.lower() not in lang.words["delegation_verbs"]:
        return False
    for c in verb.children:
        if c.dep_ == "prep" and c.text.lower() == "for" and any(t.dep_ == "pobj" for t in c.children):
            later = [t for t in verb.subtree if t.i > c.i and t.pos_ == "VERB"
                     and any(a.dep_ == "aux" and a.text.lower() == "to" for a in t.children)]
            if later:
                return True  # "arranged for a courier to collect it"
        if c.dep_ in ("ccomp", "xcomp") and _subject(c) is not None and _subject(c).lemma_.lower() in \
                lang.words["team_nouns"]:
            return True
    return False


def _asked_team(verb: Any, lang: Lang) -> str | None:
    """'ask my supervisor to waive it' → 'my supervisor … waive it' (what the team decides)."""
    if verb.lemma_.lower() not in lang.words["ask_verbs"]:
        return None
    team = next((c for c in verb.children if c.dep_ in ("dobj", "dative")
                 and c.lemma_.lower() in lang.words["team_nouns"]), None)  # fmt: skip
    then = next((c for c in verb.children if c.dep_ in ("xcomp", "ccomp") and c.pos_ == "VERB"), None)
    if team is None or then is None:
        return None
    words = [t for t in team.subtree] + [t for t in then.subtree]
    return "".join(t.text_with_ws for t in words).strip(" .")


def _stems(text: str, lang: Lang) -> set[str]:
    """Content-word stems (first five letters of words of four letters or more, stop words and the
    speaker's pronouns left out): enough to see that two sentences talk about the same thing."""
    skip = lang.words["stopwords"] | lang.words["first_person"] | lang.words["second_person"]
    return {w[:5] for w in _WORD.findall(text.lower()) if len(w) >= 4 and w not in skip and "'" not in w}


def _join(tokens: list[str]) -> str:
    text = " ".join(tokens)
    text = re.sub(r"\s+([,.;:!?)])", r"\1", text)
    return re.sub(r"([(])\s+", r"\1", text).strip()


_DE_SUBORDINATE = {"dass", "weil", "da", "damit", "ob", "obwohl", "sodass", "wobei", "welche", "welcher", "der", "bis",
                   "die", "das", "wo", "wie", "was"}  # fmt: skip


def _de_segments(tokens: list[str], lang: Lang) -> list[tuple[str, list[str], int]]:
    """Split a German sentence into (kind, tokens, main_length): kind main | continued | condition.

    Commas and clause conjunctions start a new clause; a subordinate clause ("dass …", a
    relative "die ich …" after a comma) stays with the clause before it but outside its
    main part (``main_length``); "und melde mich …" without its own subject is merged into
    the previous clause (same actor, one action)."""
    pieces: list[list[Any]] = [["main", [], None]]
    conj = lang.words["clause_conjunctions"]
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        low = tok.lower()
        nxt = tokens[i + 1] if i + 1 < len(tokens) else ""
        after = tokens[i + 2] if i + 2 < len(tokens) else ""
        if tok in (",", ";", ":", "–", "-") and nxt:
            nlow = nxt.lower()
            relative = nlow in ("der", "die", "das", "dem", "den") and not after[:1].isupper()
            if nlow in lang.words["conditional_marks"] or (nlow in lang.words["conditional_openers"]
                                                           and tokens[-1] != "?"):  # fmt: skip
                pieces.append(["condition", [], None])
            elif relative or (nlow in _DE_SUBORDINATE and nlow not in ("der", "die", "das", "dem", "den")):
                if pieces[-1][2] is None:
                    pieces[-1][2] = len(pieces[-1][1])
                pieces[-1][1].append(tok)
            elif nlow in lang.words["please"] and tok != ";":  # "…; bitte sichern Sie…" is a new clause
                pieces[-1][1].append(tok)
            elif nlow in conj and after.lower() in lang.words["conditional_marks"]:
                pieces.append(["condition", [], None])  # ", und sobald es eingegangen ist, …"
                i += 1
            elif nlow in conj:
                pieces.append(["continued", [], None])
            else:
                pieces.append(["main", [], None])
            i += 1
            continue
        if low in conj and pieces[-1][1] and nxt and pieces[-1][0] != "condition" and pieces[-1][2] is None:
            nlow = nxt.lower()
            verb_after = tokens[i + 3] if i + 3 < len(tokens) else ""
            starts_clause = (nlow in lang.words["first_person"] | lang.words["first_plural"] | {"sie", "du"}
                             or (nxt[:1].islower() and nlow not in lang.words["articles"]
                                 and nlow not in lang.words["object_pronouns"] and not nxt[:1].isdigit())
                             # "und der Techniker ruft …": article + noun + verb is a new clause
                             or (nlow in lang.words["articles"] and after[:1].isupper() and verb_after[:1].islower()
                                 and verb_after.lower() not in lang.words["articles"] and _WORD.fullmatch(verb_after)
                                 is not None))
            if starts_clause:
                pieces.append(["continued", [], None])
        if i == 0 and (low in lang.words["conditional_marks"] or (
                low in lang.words["conditional_openers"] and tokens[-1] != "?")):  # "Sollte die Leitung ausfallen, …"
            pieces[-1][0] = "condition"
        pieces[-1][1].append(tok)
        i += 1
    out: list[tuple[str, list[str], int]] = []
    for kind, seg, main_len in pieces:
        if not seg:
            continue
        main = seg[:main_len] if main_len is not None else seg
        core = [w for w in main if _WORD.fullmatch(w)]
        if kind == "continued" and core and core[0].lower() in conj:
            core = core[1:]
        # "… und behebt sie morgen": the subject is left out; "sie" after the verb is its object
        subjects = lang.words["articles"] | lang.words["first_person"] | lang.words["first_plural"] | {"sie", "du"}
        elided = (len(core) > 1 and core[0][:1].islower() and core[1] in ("sie", "es", "ihn")
                  and core[0].lower() not in subjects)  # fmt: skip
        if kind == "continued" and out and out[-1][0] != "condition" and (_de_actor(core, lang) is None or elided):
            prev_kind, prev, prev_main = out[-1]
            merged_main = prev_main if prev_main < len(prev) else len(prev) + (main_len or len(seg))
            out[-1] = (prev_kind, prev + seg, merged_main)
            continue
        out.append((kind, seg, main_len if main_len is not None else len(seg)))
    return out


def _de_actor(words: list[str], lang: Lang) -> str | None:
    """The clause's subject: "ich"/"wir" near the verb (also after a fronted object: "Ihre Anfrage leite
    ich weiter"), else the first team, article+noun or "Sie" in the first positions."""
    for w in words[:7]:
        if w.lower() in lang.words["first_person"]:
            return "self"
        if w.lower() in lang.words["first_plural"]:
            return "we"
    for n, w in enumerate(words[:5]):
        low = w.lower()
        if low in lang.words["first_person"]:
            return "self"
        if low in lang.words["first_plural"]:
            return "we"
        if w == "sie" or low == "er":
            return "team"  # "sie ruft Sie an", "er meldet sich": another person acts
        if low in ("sie", "du") and (n == 0 or low == "du" or (w == "Sie" and words[n - 1].lower().endswith("n"))):
            return "you"  # "rufe Sie an": Sie is the object of a first-person verb
        if low in lang.words["object_pronouns"]:
            continue
        if any(low.endswith(t) for t in lang.words["team_nouns"]) and w[0].isupper():
            return "team"
        if low in lang.words["articles"] and n + 1 < len(words):
            nxt = words[n + 1]
            if any(nxt.lower().endswith(t) for t in lang.words["team_nouns"]):
                return "team"
            if nxt[:1].isupper() or (n + 2 < len(words) and words[n + 2][:1].isupper() and words[n + 2] != "Sie"):
                if low in ("es", "er"):
                    return "thing"
                return "thing"
    return None


def _de_has_verb(words: list[str], lang: Lang) -> bool:
    """A German clause has a verb: some lower-case word that is no article, pronoun, preposition or
    particle, and not an adjective standing after an article ("dem gewünschten Ende")."""
    closed = (lang.words["articles"] | lang.words["object_pronouns"] | lang.words["prepositions"]
              | lang.words["negations"] | lang.words["please"] | lang.words["clause_conjunctions"]
              | lang.words["hedges"])  # fmt: skip
    auxes = (lang.words["future_aux"] | lang.words["obligation_aux"] | lang.words["ability_aux"]
             | lang.words["perfect_aux"] | lang.words["copula_verbs"] | lang.words["past_forms"])  # fmt: skip
    if any(w.lower() in auxes for w in words):
        return True
    for n, w in enumerate(words):
        low = w.lower()
        if low in lang.words["first_person"] | lang.words["first_plural"] | {"sie", "du"} and n == 0:
            continue
        if w[:1].isupper() and n > 0 or low in closed or w.isdigit() or not low.endswith(("e", "t", "n", "st")):
            continue
        if n > 0 and words[n - 1].lower() in lang.words["articles"] - {"er", "es"}:
            continue  # "dem gewünschten Ende": an adjective
        return True
    return bool(words) and words[0].lower() not in closed and words[0].lower().endswith(("e", "t", "n"))


def _de_participle(word: str, lang: Lang) -> bool:
    if len(word) < 5:
        return False
    if word.endswith("iert"):
        return True
    prefixes = tuple(lang.words["participle_prefixes"])
    separable = tuple(p + "ge" for p in lang.words["separable_prefixes"])
    return word.endswith(("t", "en")) and (word.startswith(prefixes) or word.startswith(separable)
                                           or ("ge" in word[2:5] and word.endswith("t")))  # "weitergegeben"


def _de_finite(words: list[str], lang: Lang) -> str | None:
    """The finite verb in verb-second position (or first, for questions/imperatives)."""
    subjects = lang.words["first_person"] | lang.words["first_plural"] | {"sie", "du"}
    for n, w in enumerate(words[:4]):
        if w.lower() in subjects and n + 1 < len(words):
            return words[n + 1] if n == 0 else words[n - 1]
    return words[1] if len(words) > 1 else None


# --- condensing stored contact texts (context summary) ----------------------------------------

_SPEAKER_PREFIX = re.compile(r"^\s*(customer|client|kunde|kundin|user|agent|support|mitarbeiter(?:in)?)\s*:\s*",
                             re.IGNORECASE)  # fmt: skip
_AGENT_NAMES = {"agent", "support", "mitarbeiter", "mitarbeiterin"}


@lru_cache(maxsize=1)
def default_extractor() -> Extractor:
    from shared.settings import ROOT

    return Extractor(ROOT / "config" / "extraction.yaml")


def guess_language(text: str, extractor: Extractor) -> str:
    """en or de by stop-word hits (cheap; only to pick the summary's word lists)."""
    words = _WORD.findall(text.lower())
    hits = {code: sum(w in lang.words["stopwords"] for w in words) for code, lang in extractor.langs.items()}
    return max(hits, key=lambda code: (hits[code], code == "en"))


def condense(text: str, limit: int = 2, extractor: Extractor | None = None) -> str:
    """A stored contact text (a note or a "Customer: … / Agent: …" transcript) cut down to the
    sentences that state the problem and the resolution; short texts are returned as they are."""
    ex = extractor or default_extractor()
    turns: list[dict[str, Any]] = []
    for line in text.splitlines():
        m = _SPEAKER_PREFIX.match(line)
        if m:
            speaker = "agent" if m.group(1).lower() in _AGENT_NAMES else "customer"
            turns.append({"speaker": speaker, "text": line[m.end():]})
        elif line.strip():
            if turns:
                turns[-1]["text"] += " " + line.strip()
            else:
                turns.append({"speaker": "customer", "text": line.strip()})
    if sum(len(ex.splitter.split(t["text"])) for t in turns) <= limit:
        return text.strip()
    picked = ex.summary_sentences(turns, guess_language(text, ex), limit=limit)
    return " ".join(p["text"] for p in picked) or text.strip()
