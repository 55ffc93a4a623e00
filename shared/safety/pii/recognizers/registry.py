"""Every local PII recogniser, by the name ``recognizers`` in config/safety/pii.yaml enables it with.

Adding one is a file in this package (a :class:`~shared.safety.pii.base.Recognizer`) and a line here."""

from __future__ import annotations

from shared.safety.pii.base import Recognizer
from shared.safety.pii.recognizers.address import AddressRecognizer
from shared.safety.pii.recognizers.cue_names import CueNameRecognizer
from shared.safety.pii.recognizers.iban import IbanRecognizer
from shared.safety.pii.recognizers.known_names import KnownNameRecognizer
from shared.safety.pii.recognizers.obfuscated_email import ObfuscatedEmailRecognizer
from shared.safety.pii.recognizers.patterns import PatternRecognizer
from shared.safety.pii.recognizers.phone import PhoneRecognizer
from shared.safety.pii.recognizers.presidio import PresidioRecognizer
from shared.safety.pii.recognizers.spacy_ner import SpacyNerRecognizer
from shared.safety.pii.recognizers.spelled_phone import SpelledPhoneRecognizer
from shared.safety.pii.recognizers.split_card import SplitCardRecognizer
from shared.safety.pii.recognizers.url_query import UrlQueryRecognizer

RECOGNIZERS: dict[str, type[Recognizer]] = {
    cls.name: cls
    for cls in (
        PatternRecognizer,
        IbanRecognizer,
        PresidioRecognizer,
        PhoneRecognizer,
        AddressRecognizer,
        CueNameRecognizer,
        KnownNameRecognizer,
        SpelledPhoneRecognizer,
        SplitCardRecognizer,
        ObfuscatedEmailRecognizer,
        UrlQueryRecognizer,
        SpacyNerRecognizer,
    )
}
