"""What every clause analyzer produces (``Clause``) and reads (``Lang``: a language's word lists from
``config/language/extraction.yaml`` and its lexicon), and the analyzer interface."""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

# "completed" (done during the contact) is analysed but is not a next step.
ACTION_ACTS = (
    "commitment",
    "instruction",
    "request",
    "process",
    "receive",
    "completed_delegation",
    "present_statement",
)
WORD = re.compile(r"[\wäöüß'](?:[\wäöüß'-]*[\wäöüß'])?", re.IGNORECASE)


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
        low = " " + " ".join(WORD.findall(text.lower())) + " "
        return any(f" {p} " in low for p in self.phrases.get(kind, []))


class ClauseAnalyzer(ABC):
    """One language's clause analysis: a spaCy doc of one sentence → its clauses (actor, act, owner,
    confidence). A subclass sets ``name`` (what ``clause_analyzer`` in ``config/language/extraction.yaml``
    names) and implements ``analyze``; it is registered in ``shared.language.clauses.registry``."""

    name: ClassVar[str]

    def __init__(self, conf: Mapping[str, float]) -> None:
        self.conf = dict(conf)

    @abstractmethod
    def analyze(self, doc: Any, speaker: str, lang: Lang) -> list[Clause]:
        """The clauses of one spaCy doc said by ``speaker``; each language's analyzer implements it."""

    def make(
        self,
        speaker: str,
        sentence: str,
        text: str,
        act: str,
        actor: str,
        owner: str | None,
        conf_key: str | None,
        conditional: bool,
    ) -> Clause:
        conf = self.conf.get(conf_key or "", 0.0)
        if conditional:
            conf *= self.conf["conditional_factor"]
        text = text.strip(" ,;:-–")
        return Clause(
            speaker=speaker,
            sentence=sentence,
            text=text or sentence,
            act=act,
            actor=actor,
            owner=owner,
            conditional=conditional,
            confidence=conf,
        )
