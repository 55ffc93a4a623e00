"""Which clauses are next steps (language-free): drops conditional options put to the customer, visible
effects of what was just done, guesses without a time, requests the customer reports done, repeats;
merges process stages and a customer's acceptance of the agent's request; attaches due words,
confidence and the review flag. Words come from the language's ``Lang`` tables."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any

from shared.language.clauses.base import WORD, Clause, Lang
from shared.language.nlp import SentenceSplitter


def with_condition(
    text: str, condition: str | None, sentence: str, joiners: frozenset[str] | set[str] = frozenset()
) -> str:
    """The step with its condition, in the sentence's order ("If it still fails by Friday, call us back",
    "We'll text you once it's restored"): a conditional step never loses its condition in any text.
    ``joiners``: the language's conjunctions a clause may start with ("and we'll swap it")."""
    cond = (condition or "").strip(" ,;:.")
    body = " ".join(text.split()).replace(" .", ".").strip(" ,;:")
    first, _, rest = body.partition(" ")
    if first.lower() in joiners and rest:
        body = rest
    if not cond or cond.lower() in body.lower():
        return text
    at_cond, at_body = sentence.find(cond), sentence.find(body.rstrip(".!"))
    if at_cond != -1 and at_body != -1 and at_cond > at_body:
        return f"{body.rstrip('.!')} {cond}."
    return f"{cond}, {body}"


def leading_condition(sentence: str, text: str, lang: Lang) -> str | None:
    """ "If you need more time, reply … and we'll …": the sentence opens with a condition (a word of
    ``conditional_marks`` / ``conditional_openers``) up to its first comma, and the step comes after it."""
    head, comma, _ = sentence.partition(",")
    words = WORD.findall(head.lower())
    if not comma or not words or text.strip(" ,;:.") in head:
        return None
    marks = lang.words.get("conditional_marks", set()) | lang.words.get("conditional_openers", set())
    return head.strip() if words[0] in marks else None


class ActionSelector:
    def __init__(self, conf: Mapping[str, float], review_below: float, splitter: SentenceSplitter) -> None:
        self.conf = dict(conf)
        self.review_below = review_below
        self.splitter = splitter

    def select(
        self,
        transcript: list[dict[str, Any]],
        clauses: list[Clause],
        lang: Lang,
        language: str,
        find_due: Callable[[str, str], str | None],
    ) -> list[dict[str, Any]]:
        """The clauses (of the transcript, in order) that are next steps, with due words, confidence and
        review flag; ``find_due(text, language)`` gives a text's deadline words."""
        found: list[dict[str, Any]] = []
        turns: list[int] = []
        seen: set[str] = set()
        clauses = self._merge_stages(clauses)
        per_sentence = Counter(c.sentence for c in clauses if c.is_action)
        hypothetical = self._hypothetical_turns(clauses)
        joiners = lang.words.get("and_words", set()) | lang.words.get("clause_conjunctions", set())
        for n, c in enumerate(clauses):
            if not c.is_action:
                continue
            if c.conditional and c.turn in hypothetical:
                continue  # "if A, X; if B, Y — which applies?": options put to the customer, not steps yet
            if (
                c.act == "receive"
                and find_due(c.sentence, language) is None
                and any(
                    o.turn == c.turn and o.act == "completed" and (o.sentence == c.sentence or i < n)
                    for i, o in enumerate(clauses)
                )
            ):
                continue  # "I've applied it; you'll see the new total": the visible effect of what was just done
            if c.owner == "backoffice" and lang.contains("hedges", c.text) and find_due(c.text, language) is None:
                continue  # "he probably needs a log file": a guess without a time is no commitment
            if c.act == "receive" and lang.contains("immediate", c.text):
                continue  # "you get the code straight away": it happens during the contact
            if (
                c.speaker == "agent"
                and c.act in ("request", "instruction")
                and find_due(c.sentence, language) is None
                and self._reported_done(transcript, c.turn, lang)
            ):
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
                due = next(
                    (
                        a["due_text"]
                        for a, t in zip(reversed(found), reversed(turns), strict=True)
                        if t == c.turn and a["due_text"]
                    ),
                    None,
                )
            if due is None and (c.needs_due or c.act == "present_statement"):
                continue  # "I'll do that", "the credit is applied": nothing open without a stated time
            confidence = c.confidence
            if due is None and c.untimed_confidence is not None:
                confidence = min(confidence, c.untimed_confidence)
            if c.act in ("process", "present_statement") and due is not None:
                confidence = max(confidence, self.conf["process"])
            confidence = round(confidence, 2)
            condition = c.condition or next(
                (o.condition for o in clauses[:n] if o.condition and o.turn == c.turn and o.sentence == c.sentence),
                None,
            )  # "If X, call us and we'll Y"
            if condition is None:
                condition = leading_condition(c.sentence, c.text, lang)
            found.append(
                {
                    "owner": c.owner,
                    "sentence": c.sentence,
                    "due_text": due,
                    "condition": condition,
                    "description": with_condition(c.text, condition, c.sentence, joiners),
                    "act": c.act,
                    "conditional": c.conditional,
                    "confidence": confidence,
                    "needs_review": confidence < self.review_below,
                    "speaker": c.speaker,
                    "turn": c.turn,
                }
            )
            turns.append(c.turn)
        return self._merge_acceptances(found, turns, lang)

    @staticmethod
    def _merge_stages(clauses: list[Clause]) -> list[Clause]:
        """ "The SIM will be sent out today and should arrive on Saturday": one step; its date is the last stage's."""
        out: list[Clause] = []
        for c in clauses:
            prev = out[-1] if out else None
            if (
                c.later_stage
                and prev is not None
                and prev.sentence == c.sentence
                and prev.owner == "backoffice"
                and prev.is_action
                and c.is_action
            ):
                a, b = c.sentence.find(prev.text), c.sentence.find(c.text)
                text = c.sentence[a : b + len(c.text)] if 0 <= a < b else f"{prev.text} {c.text}"
                out[-1] = replace(prev, text=text, stage_text=c.text)
                continue
            out.append(c)
        return out

    def _merge_acceptances(self, found: list[dict[str, Any]], turns: list[int], lang: Lang) -> list[dict[str, Any]]:
        """ "Could you send us a photo?" — "I'll send the photos tonight": one step (the customer's), not two.

        A customer's promise right after an agent's untimed request for one thing that shares a content
        word with it (or only points back to it: "I'll do it tonight") is that request accepted: it is
        dropped and its time becomes the request's."""
        out: list[dict[str, Any]] = []
        out_turns: list[int] = []
        for a, turn in zip(found, turns, strict=True):
            if a["speaker"] == "customer" and a["act"] == "commitment":
                # Only an untimed request for one thing: a request with its own deadline and a promise of an
                # earlier time are two dates; a request for several things may be accepted piece by piece.
                asked = [
                    i
                    for i, (b, t) in enumerate(zip(out, out_turns, strict=True))
                    if b["speaker"] == "agent"
                    and b["owner"] == "customer"
                    and t < turn
                    and t == max(out_turns[j] for j, o in enumerate(out) if o["speaker"] == "agent")
                    and b["due_text"] is None
                    and not set(WORD.findall(b["description"].lower())) & lang.words["and_words"]
                ]
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


def _stems(text: str, lang: Lang) -> set[str]:
    """Content-word stems (first five letters of words of four letters or more, stop words and the
    speaker's pronouns left out): enough to see that two sentences talk about the same thing."""
    skip = lang.words["stopwords"] | lang.words["first_person"] | lang.words["second_person"]
    return {w[:5] for w in WORD.findall(text.lower()) if len(w) >= 4 and w not in skip and "'" not in w}
