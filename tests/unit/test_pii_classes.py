"""The PII classes that used to stay raw (issue 24, item 5): each in English and German, with the
look-alikes that must stay."""

from __future__ import annotations

import pytest

from shared.safety.pii.local import LocalDetector
from shared.settings import ROOT

DETECTOR = LocalDetector.load(ROOT / "config" / "safety/pii.yaml")


def _found(text: str) -> list[tuple[str, str]]:
    return [(s.entity, s.text) for s in DETECTOR.detect_many([text], ner=False)[0]]


POSITIVES = [
    # names with a title or without a cue (Faker's per-locale lists)
    ("en", "I spoke to Mrs. Dubois yesterday.", ("PERSON", "Dubois")),
    ("en", "Giulia Rossi called about the invoice.", ("PERSON", "Giulia Rossi")),
    ("de", "Ich habe mit Herr Dr. Schmidt gesprochen.", ("PERSON", "Schmidt")),
    ("de", "Lukas Brandt hat gestern angerufen.", ("PERSON", "Lukas Brandt")),
    ("de", "Die Kollegin Mme Dubois und Sig. Rossi sind informiert.", ("PERSON", "Rossi")),
    # phone numbers with dots or in words
    (
        "en",
        "call me on zero one five one two three four five six seven",
        ("PHONE", "zero one five one two three four five six seven"),
    ),
    ("en", "My cell is 0151.234.56789 today", ("PHONE", "0151.234.56789")),
    (
        "de",
        "Meine Nummer: null eins fünf eins zwei drei vier fünf sechs sieben.",
        ("PHONE", "null eins fünf eins zwei drei vier fünf sechs sieben"),
    ),
    ("de", "Erreichbar unter +49.30.1234567 ab 9 Uhr", ("PHONE", "+49.30.1234567")),
    # card number split over two lines
    ("en", "card number:\n4111 1111\n1111 1111 thanks", ("CARD", "4111 1111\n1111 1111")),
    ("de", "Meine Karte 5555 5555 5555\n4444 bitte sperren", ("CARD", "5555 5555 5555\n4444")),
    # e-mail written with words
    ("en", "write to anna dot schmidt at example dot com please", ("EMAIL", "anna dot schmidt at example dot com")),
    ("de", "Schreiben Sie an max.muster(at)firma.de bitte", ("EMAIL", "max.muster(at)firma.de")),
    ("de", "Mail: jonas punkt weber ät gmx punkt de", ("EMAIL", "jonas punkt weber ät gmx punkt de")),
    # personal data in a URL query string
    ("en", "open https://shop.example/verify?email=anna%40ex.com&ref=abc", ("EMAIL", "anna%40ex.com")),
    ("de", "Link: https://portal.example/?vorname=Jonas&telefon=015112345678", ("PHONE", "015112345678")),
    # dates of birth and passport numbers
    ("en", "My date of birth is 12.03.1985.", ("DATE_OF_BIRTH", "12.03.1985")),
    ("en", "passport number 123456789, issued 2020", ("PASSPORT", "123456789")),
    ("de", "Geburtsdatum: 3. März 1985", ("DATE_OF_BIRTH", "3. März 1985")),
    ("de", "Meine Reisepassnummer lautet C01X00T47.", ("PASSPORT", "C01X00T47")),
]

LOOKALIKES = [
    ("en", "Please look at example.com for the manual."),
    ("en", "I have one or two questions about three items."),
    ("en", "We shipped it on 12.03.2025 and the total was 1.234.567 points."),
    ("en", "Invoice 1234 5678\n2024 total due"),
    ("en", "My passport expired, can I still travel?"),
    ("en", "see https://help.example/article?id=5&lang=en"),
    ("de", "Termin am 12.03.2025 um 10.30 Uhr, Version 2.14.3"),
    ("de", "Bitte Neue Rechnung senden, die Bauer Straße ist gesperrt."),
    ("de", "Ich habe zwei oder drei Fragen zur Rechnung."),
    ("de", "Rechnung 2024 0001\n0002 offen"),
    ("de", "Der Pass ist abgelaufen."),
]


@pytest.mark.parametrize(("lang", "text", "expected"), POSITIVES, ids=[f"{p[0]}-{i}" for i, p in enumerate(POSITIVES)])
def test_class_is_masked(lang: str, text: str, expected: tuple[str, str]) -> None:
    assert expected in _found(text)


@pytest.mark.parametrize(("lang", "text"), LOOKALIKES, ids=[f"{p[0]}-{i}" for i, p in enumerate(LOOKALIKES)])
def test_lookalike_stays(lang: str, text: str) -> None:
    assert _found(text) == []


def test_name_lists_come_from_the_data_package() -> None:
    from shared.safety.pii.recognizers.known_names import KnownNameRecognizer

    first, last = KnownNameRecognizer(DETECTOR.config).lists
    assert {"Lukas", "Giulia", "Camille"} <= first and {"Rossi", "Dubois", "Brandt"} <= last
