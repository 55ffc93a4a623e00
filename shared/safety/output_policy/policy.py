"""The output policy: every registered check over every sentence of a drafted reply.

Run after generation on every draft (offline templates and Vertex alike), with the phrase
data of EVERY configured language (config/safety/output_policy.yaml), not only the customer's: a
promise injected in German into an English reply is still a promise. Each hit names the
exact sentence and a reason code; ``actions`` in the YAML says whether it replaces the
draft ("violation:*") or asks for review ("policy:*").

One :class:`OutputPolicy` serves every request of an instance, from many threads: what a
call needs (its language, its dictionary languages, the customer's own contact points, the
approved offers) travels in a :class:`PolicyContext` built per call. A category is one
:class:`Check` class in its own module, listed once in :data:`CHECKS`.

Heavy pieces (tldextract's suffix list, wordfreq's word lists, py3langid) load on first
use, once per instance; the word lists only for the languages with policy data and the
requested one (scripts/bench_policy.py measures that first call).
"""

from __future__ import annotations

from pathlib import Path

import yaml

from shared.safety.guardrails import ReviewReason
from shared.safety.output_policy.action_claims import ActionClaimCheck
from shared.safety.output_policy.acts_meaning import ActsByMeaning
from shared.safety.output_policy.allowed_acts import AllowedActsCheck
from shared.safety.output_policy.base import Approved, Check, Hit, PolicyContext, Promise, Sentences, e164
from shared.safety.output_policy.credentials import CredentialCheck
from shared.safety.output_policy.emails import EmailCheck
from shared.safety.output_policy.encoded import EncodedTextCheck
from shared.safety.output_policy.language import LanguageCheck
from shared.safety.output_policy.links import LinkCheck
from shared.safety.output_policy.off_topic import OffTopicCheck
from shared.safety.output_policy.offers import OfferRules
from shared.safety.output_policy.phones import PhoneCheck
from shared.safety.output_policy.prices import PriceCheck
from shared.safety.output_policy.role_break import RoleBreakCheck
from shared.safety.output_policy.secrets import SecretCheck
from shared.safety.output_policy.third_party import ThirdPartyCheck
from shared.safety.pii.base import PLACEHOLDER

__all__ = ["CHECKS", "Approved", "OutputPolicy", "PolicyContext", "Promise"]

# The categories, in the order their hits are reported for a sentence.
CHECKS: tuple[type[Check], ...] = (
    EmailCheck,  # contact points: email addresses (and userinfo links shaped like one)
    LinkCheck,  # links
    PhoneCheck,  # contact points: phone numbers
    CredentialCheck,  # credentials and payment data
    SecretCheck,  # secret-like strings (detect-secrets plugins)
    PriceCheck,  # price, discount and free-period promises
    EncodedTextCheck,  # encoded or non-natural text
    RoleBreakCheck,  # role breaks
    ActionClaimCheck,  # actions an assistant cannot take
    ThirdPartyCheck,  # third-party claims
    OffTopicCheck,  # off-topic persuasion
    LanguageCheck,  # reply language (whole reply, then long sentences)
    AllowedActsCheck,  # acts a reply may perform; relevance; structural injection symptoms
)


class OutputPolicy:
    def __init__(
        self,
        path: Path,
        languages: tuple[str, ...] = ("en", "de"),
        *,
        sentences: Sentences,
        meaning: ActsByMeaning | None = None,
    ) -> None:
        """``languages``: what the language detector chooses from; ``sentences``: the instance's
        sentence splitter (built from the Runtime's config directory); ``meaning``: the allowed-acts
        check by embeddings (config/safety/acts.yaml), run after the registered checks when given."""
        raw = yaml.load(path.read_text("utf-8"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))  # noqa: S506
        self.path = path
        self.version = str(raw["version"])
        self.actions: dict[str, str] = dict(raw["actions"])
        self.detect_languages = tuple(languages)
        # natural text = words of a configured language or of the requested one (wordfreq lists)
        self.languages = tuple(raw["credentials"]["per_language"])
        self.allowed_domains = {d.lower() for d in raw["links"]["allowed_domains"]}
        self.phone_regions = list(raw["contacts"]["phone_regions"])
        self.checks: tuple[Check, ...] = tuple(cls(raw) for cls in CHECKS) + ((meaning,) if meaning else ())
        if meaning is not None:
            self.version += f"+acts-{meaning.version}"
        self._offers = OfferRules(raw["offers"]["per_language"])
        self._sentences = sentences

    def context(
        self,
        *,
        language: str,
        approved: Approved,
        own_values: set[str] | frozenset[str] = frozenset(),
        grounding: str = "",
        approved_acts: frozenset[str] = frozenset(),
    ) -> PolicyContext:
        own = frozenset(v.lower() for v in own_values)
        return PolicyContext(
            language=language,
            approved=approved,
            own=own,
            own_phones=frozenset(p for p in (e164(v, self.phone_regions) for v in own) if p),
            dictionary_languages=tuple(dict.fromkeys([*self.languages, language])),
            detect_languages=self.detect_languages,
            grounding=grounding,
            approved_acts=frozenset(approved_acts),
        )

    def check(
        self,
        reply: str,
        *,
        language: str,
        approved: Approved,
        own_values: set[str] | frozenset[str] = frozenset(),
        grounding: str = "",
        approved_acts: frozenset[str] = frozenset(),
    ) -> list[ReviewReason]:
        """Every policy hit in ``reply`` as a ReviewReason ("violation:*" replaces the draft).

        ``own_values``: the customer's values from their STORED record only (never the message);
        ``grounding``: what the reply may draw on (message, snapshot facts, articles, actions)."""
        ctx = self.context(
            language=language,
            approved=approved,
            own_values=own_values,
            grounding=grounding,
            approved_acts=approved_acts,
        )
        sentences = self._sentences(reply)
        hits: list[Hit] = []
        for s in sentences:
            plain = PLACEHOLDER.sub(" ", s)
            for check in self.checks:
                hits += check.sentence(s, plain, ctx)
        text = PLACEHOLDER.sub(" ", reply)
        for check in self.checks:
            hits += check.reply(reply, text, ctx, sentences)
        out: list[ReviewReason] = []
        seen: set[tuple[str, str]] = set()
        for h in hits:
            action = self.actions.get(h.code, "replace")
            code = f"{'violation' if action == 'replace' else 'policy'}:{h.code}"
            if (code, h.sentence) in seen:
                continue
            seen.add((code, h.sentence))
            out.append(ReviewReason(code=code, source="reply", sentence=h.sentence, detail=h.detail))
        return out

    def approved_from(self, texts: list[str], discounts: list[float], max_discount: float) -> Approved:
        """Approved promises: the actions' discounts plus whatever their pitches promise."""
        promises = {Promise("percent", float(d)) for d in discounts if d}
        for t in texts:
            promises.update(self._offers.promises(t))
        return Approved(max_discount=max_discount, promises=frozenset(promises))
