"""English clauses from spaCy's dependency parse (``en_core_web_sm``): for each predicate, who acts
(the subject: I / we / you / a team / a thing), in which mood (future, obligation, perfect,
imperative, …) and so which act it is (commitment, instruction, request, question, offer, negation,
completed fact, statement; conditional under "if / once / unless …")."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from shared.language.clauses.base import Clause, ClauseAnalyzer, Lang


class EnglishClauses(ClauseAnalyzer):
    name = "english"

    def analyze(self, doc: Any, speaker: str, lang: Lang) -> list[Clause]:
        sentence = doc.text
        question = sentence.rstrip().endswith("?")
        preds = [
            t
            for t in doc
            if t.dep_ == "ROOT"
            or (
                t.dep_ in ("conj", "parataxis")
                and t.pos_ in ("VERB", "AUX")
                and t.head.pos_ in ("VERB", "AUX")
                and (
                    _subject(t) is not None
                    or (_subject(t.head) is None and t.tag_ == "VB" and t.head.tag_ == "VB")
                    or any(c.dep_ == "aux" for c in t.children)
                )
            )
            or (t.dep_ == "ccomp" and t.i < t.head.i and _subject(t) is not None)
        ]
        # A semicolon joins two independent clauses, whatever the parser attached them to.
        part = [0] * len(doc)
        for t in doc:
            part[t.i] = part[t.i - 1] + (doc[t.i - 1].text == ";") if t.i else 0
        ultimatum = lang.words["ultimatum_marks"] - {"or"}
        for t in doc:  # "Please sign it, otherwise it lapses": the parser hangs the instruction on the consequence
            if t.lower_ in ultimatum and t.head.i > t.i:
                part[t.i :] = [x + 1 for x in part[t.i :]]
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
                out.append(self.make(speaker, sentence, text, "ultimatum", "none", None, None, False))
                continue
            if _en_alternative(p, lang):  # "you can call us or visit a store": an option, not a step
                out.append(self.make(speaker, sentence, text, "option", "none", None, None, False))
                continue
            out += [
                replace(c, condition=condition) if condition and c.conditional else c
                for c in self._decide(p, speaker, sentence, text, question, conditional, lang)
            ]
        return out

    def _decide(
        self, p: Any, speaker: str, sentence: str, text: str, question: bool, conditional: bool, lang: Lang
    ) -> list[Clause]:
        make = self.make
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

        purpose = (
            actor == "you"
            and mood in ("present", "ability")
            and any(
                c.dep_ in ("advmod", "mark") and c.i < p.i and c.lower_ in lang.words["purpose_marks"]
                for c in p.children
            )
        )
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
            if (
                actor == "you"
                and (auxes & lang.words["ability_aux"] | auxes & lang.words["future_aux"])
                and lemma not in lang.words["info_verbs"]
            ):
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
                    out.append(
                        make(speaker, sentence, decided, "commitment", "team", "backoffice", "process", conditional)
                    )
                return out
            if mood == "perfect":
                if _delegated(verb, lang) or (
                    obj is not None
                    and obj.lemma_.lower() in lang.words["team_nouns"]
                    and lemma in lang.words["delegation_verbs"]
                ):
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
        if (
            mood == "imperative"
            and lemma not in lang.words["courtesy_imperatives"]
            and not lang.contains("courtesy_imperatives", low)
            and verb.text.lower() == lemma
            and not (obj is None and sentence.rstrip().endswith("!"))
        ):
            return one("instruction", "customer", "instruction")
        return none("statement")


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
    if xcomp is not None and (
        lemma in ("need", "have", "require") or (lemma == "be" and any(c.lemma_.lower() == "require" for c in children))
    ):
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
    if p.tag_ in ("VBD",) or (p.tag_ == "VBN" and "be" not in aux_l) or any(c.tag_ == "VBD" for c in aux):
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
    return any(
        c.dep_ in ("ccomp", "xcomp", "oprd", "acomp", "acl")
        and c.tag_ in ("VBN", "VBG", "JJ")
        or (c.dep_ in ("prt", "advmod") and c.lower_ in ("on", "in", "running", "alone"))
        for h in heads
        for c in h.children
    )


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
                d.dep_ == "det" and d.lemma_.lower() == "no" for d in c.children
            ):
                return True
    return False


def _delegated(verb: Any, lang: Lang) -> bool:
    """'arrange for a courier to collect it', 'have a technician visit' — someone else acts."""
    if verb.lemma_.lower() not in lang.words["delegation_verbs"]:
        return False
    for c in verb.children:
        if c.dep_ == "prep" and c.text.lower() == "for" and any(t.dep_ == "pobj" for t in c.children):
            later = [
                t
                for t in verb.subtree
                if t.i > c.i
                and t.pos_ == "VERB"
                and any(a.dep_ == "aux" and a.text.lower() == "to" for a in t.children)
            ]
            if later:
                return True  # "arranged for a courier to collect it"
        if (
            c.dep_ in ("ccomp", "xcomp")
            and _subject(c) is not None
            and _subject(c).lemma_.lower() in lang.words["team_nouns"]
        ):
            return True
    return False


def _asked_team(verb: Any, lang: Lang) -> str | None:
    """'ask my supervisor to waive it' → 'my supervisor … waive it' (what the team decides)."""
    if verb.lemma_.lower() not in lang.words["ask_verbs"]:
        return None
    team = next(
        (c for c in verb.children if c.dep_ in ("dobj", "dative") and c.lemma_.lower() in lang.words["team_nouns"]),
        None,
    )
    then = next((c for c in verb.children if c.dep_ in ("xcomp", "ccomp") and c.pos_ == "VERB"), None)
    if team is None or then is None:
        return None
    words = [t for t in team.subtree] + [t for t in then.subtree]
    return "".join(t.text_with_ws for t in words).strip(" .")
