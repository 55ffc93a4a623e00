"""German clauses by rules over spaCy's tokenizer (no German parser on the package registry): the
sentence is cut into clauses at commas and conjunctions (conditions "sobald / wenn / falls …",
subordinate and relative clauses kept apart), the subject found near the finite verb (verb-second),
and the act decided from modal and auxiliary verbs, participles and "bitte"."""

from __future__ import annotations

import re
from typing import Any

from shared.language.clauses.base import WORD, Clause, ClauseAnalyzer, Lang


class GermanClauses(ClauseAnalyzer):
    name = "german"

    def analyze(self, doc: Any, speaker: str, lang: Lang) -> list[Clause]:
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
            words = [w for w in seg[:main_len] if WORD.fullmatch(w)]
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
                {w.lower() for w in prev_words} & lang.words["future_aux"]
            )
            prev_words = words
            if words[0].lower() in lang.words["ultimatum_marks"] or (
                speaker == "customer"
                and ((joined_by == "oder" and actor in ("self", "we")) or (pending_condition and condition_negated))
            ):
                # "…, sonst kündige ich" / "wenn das nicht klappt, gehe ich zum Anwalt": a threat or a warned
                # consequence (a sentiment/guardrail signal), never a task
                out.append(self.make(speaker, sentence, text, "ultimatum", actor, None, None, False))
                pending_condition = False
                continue
            if joined_by == "oder" and possible_before:  # "Sie können anrufen, oder er trägt Sie ein": an option
                out.append(self.make(speaker, sentence, text, "option", actor, None, None, False))
                pending_condition = False
                continue
            clause = self._decide(words, speaker, sentence, text, question, pending_condition, actor, lang)
            if pending_condition and clause.conditional:
                clause.condition = condition_text
            out.append(clause)
            sub = [w for w in seg[main_len:] if WORD.fullmatch(w)]
            finite = _de_finite(words, lang)
            if (
                clause.owner == "agent"
                and finite is not None
                and finite.lower() in lang.words["ask_verbs"]
                and any(w.lower() in lang.words["team_nouns"] for w in words)
                and sub
            ):
                # "Ich frage meine Vorgesetzte, ob wir die Gebühr erlassen können": the team decides
                out.append(
                    self.make(
                        speaker,
                        sentence,
                        _join(seg[main_len:]),
                        "commitment",
                        "team",
                        "backoffice",
                        "process",
                        pending_condition,
                    )
                )
            pending_condition = False
        return out

    def _decide(
        self,
        words: list[str],
        speaker: str,
        sentence: str,
        text: str,
        question: bool,
        conditional: bool,
        actor: str,
        lang: Lang,
    ) -> Clause:
        make = self.make
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
        imperative = (
            len(words) > 1
            and words[1] == "Sie"
            and low[0] not in lang.words["question_words"]
            and low[0] not in lang.words["ability_aux"] | lang.words["future_aux"] | lang.words["perfect_aux"]
        )
        finite = _de_finite(words, lang)
        stative = finite is not None and finite.lower() in lang.words["stative_verbs"]

        past = bool(lowset & lang.words["past_forms"])
        in_contact = bool(lowset & lang.words["in_contact_markers"]) or lang.contains(
            "in_contact_markers", " ".join(low)
        )
        copula = finite is not None and finite.lower() in lang.words["copula_verbs"] and not participle_end
        if actor == "thing" and not participle_end and not future:  # "Die Rechnung ist erst am 9. fällig"
            copula = copula or bool(set(low[:6]) & lang.words["copula_verbs"])
        already = bool(lowset & lang.words["already"])
        if future and participle_end and "werden" not in low[-2:]:
            future = False  # "wird … verrechnet" is the present passive, not a future
            passive = actor not in ("self", "we")

        if speaker == "customer":
            if (
                actor in ("self", "we")
                and not question
                and not negated
                and not past
                and not perfect
                and not stative
                and not ability
            ):
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
                    any(w.endswith(t) for t in lang.words["team_nouns"]) for w in low
                ):
                    return make(
                        speaker,
                        sentence,
                        text,
                        "completed_delegation",
                        actor,
                        "backoffice",
                        "completed_delegation",
                        conditional,
                    )
                return make(speaker, sentence, text, "completed", actor, "agent", "completed", conditional)
            if (ability and not future) or (stative and not future):
                return make(speaker, sentence, text, "statement", actor, None, None, False)
            c = make(speaker, sentence, text, "commitment", actor, "agent", "commitment", conditional)
            # "Ich schaue mal nach…", "ich öffne kurz Ihr Konto": done while on the line, unless a time is said
            c.needs_due = not future and (
                in_contact or (finite is not None and finite.lower() in lang.words["in_contact_verbs"])
            )
            # "machen wir beides", "das mache ich": points back to something said; a step only with a time
            c.needs_due = c.needs_due or bool(lowset & lang.words["do_verbs"] and lowset & lang.words["anaphora"])
            return c
        if actor == "you":
            if (
                imperative
                and low[0] in lang.words["status_quo_verbs"]
                and (low[-1] in lang.words["status_quo_ends"] or _de_participle(low[-1], lang))
            ):
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
                return make(
                    speaker, sentence, text, "present_statement", actor, "backoffice", "present_statement", conditional
                )
            if finite is not None and not stative:
                return make(
                    speaker, sentence, text, "present_statement", actor, "backoffice", "present_statement", conditional
                )
            return make(speaker, sentence, text, "statement", actor, None, None, False)
        if please and not question:
            return make(speaker, sentence, text, "instruction", actor, "customer", "instruction", conditional)
        if passive:  # "alle drei werden morgen verschickt": an impersonal process, kept when a time is said
            return make(
                speaker, sentence, text, "present_statement", actor, "backoffice", "present_statement", conditional
            )
        return make(speaker, sentence, text, "statement", actor, None, None, False)


def _join(tokens: list[str]) -> str:
    text = " ".join(tokens)
    text = re.sub(r"\s+([,.;:!?)])", r"\1", text)
    return re.sub(r"([(])\s+", r"\1", text).strip()


_DE_SUBORDINATE = {
    "dass",
    "weil",
    "da",
    "damit",
    "ob",
    "obwohl",
    "sodass",
    "wobei",
    "welche",
    "welcher",
    "der",
    "bis",
    "die",
    "das",
    "wo",
    "wie",
    "was",
}


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
            if nlow in lang.words["conditional_marks"] or (
                nlow in lang.words["conditional_openers"] and tokens[-1] != "?"
            ):
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
            starts_clause = (
                nlow in lang.words["first_person"] | lang.words["first_plural"] | {"sie", "du"}
                or (
                    nxt[:1].islower()
                    and nlow not in lang.words["articles"]
                    and nlow not in lang.words["object_pronouns"]
                    and not nxt[:1].isdigit()
                )
                # "und der Techniker ruft …": article + noun + verb is a new clause
                or (
                    nlow in lang.words["articles"]
                    and after[:1].isupper()
                    and verb_after[:1].islower()
                    and verb_after.lower() not in lang.words["articles"]
                    and WORD.fullmatch(verb_after) is not None
                )
            )
            if starts_clause:
                pieces.append(["continued", [], None])
        if i == 0 and (
            low in lang.words["conditional_marks"] or (low in lang.words["conditional_openers"] and tokens[-1] != "?")
        ):  # "Sollte die Leitung ausfallen, …"
            pieces[-1][0] = "condition"
        pieces[-1][1].append(tok)
        i += 1
    out: list[tuple[str, list[str], int]] = []
    for kind, seg, main_len in pieces:
        if not seg:
            continue
        main = seg[:main_len] if main_len is not None else seg
        core = [w for w in main if WORD.fullmatch(w)]
        if kind == "continued" and core and core[0].lower() in conj:
            core = core[1:]
        # "… und behebt sie morgen": the subject is left out; "sie" after the verb is its object
        subjects = lang.words["articles"] | lang.words["first_person"] | lang.words["first_plural"] | {"sie", "du"}
        elided = (
            len(core) > 1
            and core[0][:1].islower()
            and core[1] in ("sie", "es", "ihn")
            and core[0].lower() not in subjects
        )
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
    closed = (
        lang.words["articles"]
        | lang.words["object_pronouns"]
        | lang.words["prepositions"]
        | lang.words["negations"]
        | lang.words["please"]
        | lang.words["clause_conjunctions"]
        | lang.words["hedges"]
    )
    auxes = (
        lang.words["future_aux"]
        | lang.words["obligation_aux"]
        | lang.words["ability_aux"]
        | lang.words["perfect_aux"]
        | lang.words["copula_verbs"]
        | lang.words["past_forms"]
    )
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
    return word.endswith(("t", "en")) and (
        word.startswith(prefixes) or word.startswith(separable) or ("ge" in word[2:5] and word.endswith("t"))
    )  # "weitergegeben"


def _de_finite(words: list[str], lang: Lang) -> str | None:
    """The finite verb in verb-second position (or first, for questions/imperatives)."""
    subjects = lang.words["first_person"] | lang.words["first_plural"] | {"sie", "du"}
    for n, w in enumerate(words[:4]):
        if w.lower() in subjects and n + 1 < len(words):
            return words[n + 1] if n == 0 else words[n - 1]
    return words[1] if len(words) > 1 else None
