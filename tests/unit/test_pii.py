from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Sequence

import pytest

from scripts.seed import SEEDS, build
from shared.data.snapshots import CustomerSnapshot
from shared.safety.context_policy import pseudonymizer_for
from shared.safety.pii.base import PiiConfig, Pseudonymizer, Span, customer_key, identifiers
from shared.safety.pii.local import LocalDetector
from shared.settings import ROOT

LOCAL = LocalDetector.load(ROOT / "config" / "safety/pii.yaml")


def _entities(text: str) -> list[tuple[str, str]]:
    return [(s.entity, s.text) for s in identifiers(LOCAL, text)]


def _all(text: str) -> list[tuple[str, str]]:
    return [(s.entity, s.text) for s in LOCAL.detect_many([text])[0]]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("mail me at jane.doe+cx@example.co.uk please", [("EMAIL", "jane.doe+cx@example.co.uk")]),
        ("IBAN DE89 3704 0044 0532 0130 00 for the refund", [("IBAN", "DE89 3704 0044 0532 0130 00")]),
        ("card 4111 1111 1111 1111 was charged", [("CARD", "4111 1111 1111 1111")]),
        ("call +49 151 234 5678 or 030 1234567", [("PHONE", "+49 151 234 5678"), ("PHONE", "030 1234567")]),
        ("ruf an: (030) 123-4567", [("PHONE", "(030) 123-4567")]),
    ],
)
def test_detects_pii_patterns(text: str, expected: list[tuple[str, str]]) -> None:
    assert _entities(text) == expected


# Every finding of issue 11 item 3, in English and German: (text, entity, exact value).
FINDINGS = [
    # bare-digit phone numbers after a contact word
    ("Please call me back on 0716967895 tomorrow.", "PHONE", "0716967895"),
    ("Rufen Sie mich bitte unter 0716967895 zurück.", "PHONE", "0716967895"),
    ("My mobile is 3471234567, text me anytime.", "PHONE", "3471234567"),
    ("Meine Handynummer: 3471234567", "PHONE", "3471234567"),
    ("You can reach me on 99 668472 after six.", "PHONE", "99 668472"),
    ("Sie erreichen mich unter 99 668472 ab 18 Uhr.", "PHONE", "99 668472"),
    ("Phone: +41 71 696 78 95", "PHONE", "+41 71 696 78 95"),
    ("Can someone call me on 01.84.17.61.18?", "PHONE", "01.84.17.61.18"),
    ("Rückruf bitte an 71-33-52-22", "PHONE", "71-33-52-22"),
    ("Jane Doe\n781 1704 office\n(579)888-3058 fax", "PHONE", "781 1704"),
    ("Max Muster\n668 5702 Büro", "PHONE", "668 5702"),
    # IBAN-shaped tokens, whole, with or without a valid checksum
    ("Refund to CH36 0483 5012 3456 7890 0 please.", "IBAN", "CH36 0483 5012 3456 7890 0"),
    ("Bitte auf DE88 3704 0044 0532 0130 00 überweisen.", "IBAN", "DE88 3704 0044 0532 0130 00"),
    ("my iban is gb29nwbk60161331926819", "IBAN", "gb29nwbk60161331926819"),
    ("IBAN: CH9300762011623852957", "IBAN", "CH9300762011623852957"),
    # card numbers written with dots (Luhn-valid)
    ("The card 4111.1111.1111.1111 was charged twice.", "CARD", "4111.1111.1111.1111"),
    ("Meine Karte 5500.0000.0000.0004 wurde belastet.", "CARD", "5500.0000.0000.0004"),
    ("new Mastercard 2223 0031 2200 3222", "CARD", "2223 0031 2200 3222"),
    ("Meine Maestro-Karte 503867297114 geht nicht", "CARD", "503867297114"),  # 12 digits: only after a card word
    # emails with non-ASCII local parts and domains
    ("write to jürg.müller@bluewin.ch", "EMAIL", "jürg.müller@bluewin.ch"),
    ("Schreiben Sie an jürg.müller@bluewin.ch oder an renée@exämple.de", "EMAIL", "renée@exämple.de"),
    # national identifiers
    ("My SSN is 536-22-1234.", "SSN", "536-22-1234"),
    ("social security number 536 22 1234", "SSN", "536 22 1234"),
    ("Meine AHV-Nummer ist 756.1234.5678.97.", "NATIONAL_ID", "756.1234.5678.97"),
    ("my AHV number 7561234567897", "NATIONAL_ID", "7561234567897"),
    ("Firma Muster AG, UID CHE-123.456.789 MWST", "VAT_ID", "CHE-123.456.789 MWST"),
    ("our company UID is CHE-123.456.789", "VAT_ID", "CHE-123.456.789"),
    ("Steuer-ID 86095742719 liegt bei", "NATIONAL_ID", "86095742719"),
    ("meine Steuer-ID ist 12 345 678 901", "NATIONAL_ID", "12 345 678 901"),  # mistyped: still personal
    ("My German tax ID: 86095742719", "NATIONAL_ID", "86095742719"),
    ("USt-IdNr. DE123456789", "VAT_ID", "DE123456789"),
    ("UID ATU12345678 laut Rechnung", "VAT_ID", "ATU12345678"),
    ("my national insurance number is AB 12 34 56 C", "NATIONAL_ID", "AB 12 34 56 C"),
    # IP addresses
    ("The router shows 192.168.178.23 as gateway.", "IP", "192.168.178.23"),
    ("Der Router hat die IPv6-Adresse 2001:db8:85a3::8a2e:370:7334 bekommen.", "IP", "2001:db8:85a3::8a2e:370:7334"),
    # other people's names: English NER, cue words in every language
    ("John Smith from the flat downstairs took my parcel.", "PERSON", "John Smith"),
    ("My neighbour Peter Miller signed for it.", "PERSON", "Peter Miller"),
    ("Mein Nachbar Klaus Becker hat das Paket angenommen.", "PERSON", "Klaus Becker"),
    ("Frau Sabine Weber von Ihrer Hotline hat mir das versprochen.", "PERSON", "Sabine Weber"),
    ("Viele Grüße,\nJürg Müller", "PERSON", "Jürg Müller"),
    ("Ihr Techniker Max Müller kam nicht.", "PERSON", "Max Müller"),
    ("Ich habe mit Herrn Özdemir gesprochen.", "PERSON", "Özdemir"),
    ("Der Kurier Łukasz Nowak hat geklingelt.", "PERSON", "Łukasz Nowak"),
    ("Your agent Éric Dupont promised a refund.", "PERSON", "Éric Dupont"),
    # other people's street addresses
    ("Please ship it to 42 Baker Street, London.", "ADDRESS", "42 Baker Street"),
    ("Die Lieferung ging an Bahnhofstrasse 12, 8001 Zürich.", "ADDRESS", "Bahnhofstrasse 12, 8001 Zürich"),
    ("Er wohnt in der Hauptstraße 5 in Berlin.", "ADDRESS", "Hauptstraße 5"),
    ("my new address is Harjukuja 54, Apt. 3", "ADDRESS", "Harjukuja 54, Apt. 3"),
    ("Send the statement to 28245 Puruntie 82 Apt. 595 please", "ADDRESS", "28245 Puruntie 82 Apt. 595"),
    ("Bitte an Postfach 1234, 10115 Berlin schicken", "ADDRESS", "Postfach 1234, 10115 Berlin"),
]


@pytest.mark.parametrize(("text", "entity", "value"), FINDINGS)
def test_each_finding_is_detected(text: str, entity: str, value: str) -> None:
    found = _all(text)
    assert any(e == entity and value in v for e, v in found), found


@pytest.mark.parametrize(("text", "entity", "value"), FINDINGS)
def test_each_finding_never_reaches_the_model(text: str, entity: str, value: str) -> None:
    p = Pseudonymizer(LOCAL)
    masked = p.mask(text)
    assert value not in masked
    # nothing is half-masked: no run of 3+ digits of the value survives next to a placeholder
    for run in re.findall(r"\d{3,}", value):
        assert run not in masked
    assert p.restore(masked) == text


# What a contact-center transcript is full of and must NOT become a phone or an identifier.
LOOKALIKES = [
    "Order 20261120 was placed on 27.11.2026 for 1,299.00 EUR.",
    "Bestellung 4711-2233 vom 27.11.2026 über 1.299,00 € ist noch offen.",
    "Ticket T-1004-01 and INC0012345 are still open.",
    "Rechnungsnummer 2026112012 über 89,90 EUR",
    "Invoice 2026112012, total 1299 EUR, due 2026-12-15",
    "Kundennummer 0716967895, Vertragsnummer 1234567",
    "Call me between 10:00 and 12:00 on 2026-11-30.",
    "Order number 12345678 ships in 3-5 days.",
    "Order 503867297114 ships today.",  # 12 digits, Luhn-valid, but no card word
    "Sendungsnummer 00340434161234567890 laut DHL",
    "App version 2.3.14 on a FRITZ!Box 7590",
    "Meine Postleitzahl ist 80331.",
    "Tarif Plus 2026 für 29,99 € pro Monat seit 01.01.2025, 12 Monate Laufzeit",
    "I was charged 1 299 000 times! Reference 4411 2233.",
    "house 43 73313 and order ORD-2291-7781",
    "Ableton Live 11 Suite offers more; Office 2021 Suite too",
    "Der Betrag von 1.234.567,89 EUR wurde am 03.11.2026 abgebucht.",
    "server 10.20.30.40 answered",  # an IP, never a phone
    "Termin am 03.12.26 14 Uhr oder am 11/27/2026",
    "delivered 2026-11-27 10:30, 2 parcels of 12.5 kg",
]


@pytest.mark.parametrize("text", LOOKALIKES)
def test_ignores_lookalikes(text: str) -> None:
    wrong = {"PHONE", "IBAN", "CARD", "NATIONAL_ID", "SSN", "VAT_ID", "ADDRESS"}
    assert [(e, v) for e, v in _all(text) if e in wrong] == []


@pytest.mark.parametrize(
    "text",
    [
        "Guten Tag, der Router blinkt rot und das Internet funktioniert seit Montag nicht. "
        "Ich habe den Vertrag im Januar gekündigt und trotzdem eine Mahnung bekommen.",
        "Sehr geehrte Damen und Herren, die Lieferung kam beschädigt an. Bitte um Rückruf.",
        "Hello, my internet has been down since Monday and the router light is red. Please help.",
    ],
)
def test_ordinary_messages_stay_untouched(text: str) -> None:
    assert Pseudonymizer(LOCAL).mask(text) == text


def test_a_mistyped_card_number_is_masked_whole_after_a_card_word() -> None:
    p = Pseudonymizer(LOCAL)
    assert p.mask("my card 4111 1111 1111 1112 was declined") == "my card [CARD_1] was declined"
    # without a card word a non-Luhn 16-digit run is a parcel or order number
    assert _all("parcel 4111 1111 1111 1112 arrived") == []


def test_mistyped_iban_is_masked_whole_not_half() -> None:
    p = Pseudonymizer(LOCAL)
    assert p.mask("IBAN CH36 0483 5012 3456 7890 0, danke") == "IBAN [IBAN_1], danke"


def test_placeholders_are_stable_and_restorable() -> None:
    p = Pseudonymizer(LOCAL)
    p.add_known("Sabine Hoffmann", "[CUSTOMER_NAME]")
    p.add_known("Sabine", "[CUSTOMER_FIRST_NAME]")
    text = "Sabine Hoffmann wrote from a@b.de and again from A@B.DE; Sabine also gave x@y.org"
    masked = p.mask(text)
    assert masked == (
        "[CUSTOMER_NAME] wrote from [EMAIL_1] and again from [EMAIL_1]; [CUSTOMER_FIRST_NAME] also gave [EMAIL_2]"
    )
    assert p.restore(masked) == "Sabine Hoffmann wrote from a@b.de and again from a@b.de; Sabine also gave x@y.org"


def test_customer_is_a_role_and_others_are_numbered() -> None:
    p = Pseudonymizer(LOCAL)
    p.add_known("Sabine Hoffmann", "[CUSTOMER_NAME]")
    masked = p.mask("Sabine Hoffmann says her neighbour John Smith took the parcel.")
    assert masked == "[CUSTOMER_NAME] says her neighbour [PERSON_1] took the parcel."


def test_known_identifiers_need_word_boundaries() -> None:
    p = Pseudonymizer(LOCAL)
    p.add_known("Ann", "[CUSTOMER_FIRST_NAME]")
    assert p.mask("Annual plan for Ann") == "Annual plan for [CUSTOMER_FIRST_NAME]"


def test_mask_obj_batches_and_numbers_in_reading_order() -> None:
    obj = {"a": "call 0716967895 now", "b": ["mail x@y.org", {"c": "call 0716967895 again"}], "n": 3}
    masked = Pseudonymizer(LOCAL).mask_obj(obj)
    assert masked == {"a": "call [PHONE_1] now", "b": ["mail [EMAIL_1]", {"c": "call [PHONE_1] again"}], "n": 3}


class _Recording:
    """A backend behind the same interface: proves the Pseudonymizer uses what it is given."""

    def __init__(self) -> None:
        self.calls: list[tuple[list[str], bool]] = []

    def detect_many(self, texts: Sequence[str], *, ner: bool = True) -> list[list[Span]]:
        self.calls.append((list(texts), ner))
        return [[Span("PERSON", t.index("Zed"), t.index("Zed") + 3, "Zed")] if "Zed" in t else [] for t in texts]


def test_backend_is_injectable_and_called_once_per_batch() -> None:
    backend = _Recording()
    p = Pseudonymizer(backend, ner=False)
    assert p.mask_obj({"x": "ask Zed", "y": ["no one"]}) == {"x": "ask [PERSON_1]", "y": ["no one"]}
    assert backend.calls == [(["ask Zed", "no one"], False)]


def test_ner_model_loads_only_when_masking_needs_it() -> None:
    detector = LocalDetector(PiiConfig.load(ROOT / "config" / "safety/pii.yaml"))
    detector.detect_many(["call 0716967895 now, John Smith"], ner=False)
    assert not detector.ner_loaded
    detector.detect_many(["John Smith called about the parcel."])
    assert detector.ner_loaded


def test_importing_functions_loads_no_heavy_library() -> None:
    code = (
        "import sys, shared.safety.pii.base, functions.reply_draft, functions.context_summary, functions.next_steps;"
        "heavy = [m for m in ('spacy', 'presidio_analyzer', 'phonenumbers', 'google.cloud.dlp_v2')"
        " if m in sys.modules];"
        "print(heavy)"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_config_rejects_unknown_entities() -> None:
    import yaml

    raw = yaml.safe_load((ROOT / "config" / "safety/pii.yaml").read_text("utf-8"))
    raw["patterns"][0]["entity"] = "SHOE_SIZE"
    with pytest.raises(ValueError, match="SHOE_SIZE"):
        PiiConfig.model_validate(raw)


def test_snapshot_identifiers_never_survive_masking() -> None:
    customer, items = build(SEEDS[3])
    snap = CustomerSnapshot(
        customer=customer,
        orders=[i for i in items if type(i).__name__ == "Order"],
        interactions=[i for i in items if type(i).__name__ == "Interaction"][:20],
    )
    p = pseudonymizer_for(snap, LOCAL)
    blob = str(p.mask_obj(snap.model_dump(mode="json")))
    addr = customer.profile.address
    assert addr is not None
    for raw in [
        customer.profile.name,
        customer.profile.email,
        customer.profile.phone,
        addr.street,
        customer.customer_id,
        *customer.account_ids,
        *(o.order_id for o in snap.orders),
    ]:
        assert raw and raw not in blob
    assert "[CUSTOMER_NAME]" in blob and "[ORDER_1]" in blob


def test_customer_key_is_keyed_and_stable() -> None:
    a = customer_key("C-1001", "k" * 32)
    assert a == customer_key("C-1001", "k" * 32)
    assert a != customer_key("C-1001", "j" * 32)
    assert "1001" not in a and len(a) == 24


class _FakeDlp:
    """Stands in for dlp_v2.DlpServiceClient: records requests, answers real response types."""

    def __init__(self, findings: list[dict] | None = None, fail: bool = False) -> None:
        self.requests: list[dict] = []
        self.findings = findings or []
        self.fail = fail

    def inspect_content(self, request: dict, timeout: float) -> object:
        from google.cloud import dlp_v2

        self.requests.append(request)
        if self.fail:
            raise TimeoutError("deadline exceeded")
        return dlp_v2.InspectContentResponse({"result": {"findings": self.findings}})


def _finding(info_type: str, row: int, start: int, end: int, quote: str) -> dict:
    cell = [{"record_location": {"table_location": {"row_index": row}}}]
    return {
        "info_type": {"name": info_type},
        "quote": quote,
        "likelihood": "LIKELY",
        "location": {"codepoint_range": {"start": start, "end": end}, "content_locations": cell},
    }


def test_dlp_backend_sends_one_table_request_and_merges_with_local_patterns() -> None:
    from google.cloud import dlp_v2

    from shared.safety.pii.dlp import DlpDetector

    texts = ["IBAN CH36 0483 5012 3456 7890 0", "Ask Ottilie Brandt about it", "nothing here"]
    fake = _FakeDlp(
        [
            _finding("PERSON_NAME", 1, 4, 18, "Ottilie Brandt"),
            _finding("PERSON_NAME", 2, 0, 7, "Zebedee"),  # a quote that is not in the row: dropped
            _finding("STREET_ADDRESS", 1, 100, 110, "Brandt"),  # table-relative offsets: found by its quote
            _finding("AGE", 1, 0, 3, "Ask"),  # an info type we do not map
        ]
    )
    detector = DlpDetector(LOCAL, "proj-1", location="europe-west3", client=fake)
    p = Pseudonymizer(detector)
    assert p.mask_many(texts) == ["IBAN [IBAN_1]", "Ask [PERSON_1] about it", "nothing here"]
    (request,) = fake.requests
    parsed = dlp_v2.InspectContentRequest(request)  # the request is valid for the real API types
    assert parsed.parent == "projects/proj-1/locations/europe-west3"
    assert [r.values[0].string_value for r in parsed.item.table.rows] == texts
    assert {"PERSON_NAME", "IBAN_CODE", "SWITZERLAND_SOCIAL_SECURITY_NUMBER"} <= {
        t.name for t in parsed.inspect_config.info_types
    }


def test_dlp_failure_falls_back_to_local_masking() -> None:
    from shared.safety.pii.dlp import DlpDetector

    detector = DlpDetector(LOCAL, "proj-1", client=_FakeDlp(fail=True))
    assert Pseudonymizer(detector).mask("call me on 0716967895") == "call me on [PHONE_1]"


def test_dlp_backend_needs_a_project() -> None:
    from shared.settings import SettingsError, load_settings

    with pytest.raises(SettingsError, match="PII_BACKEND"):
        load_settings(pii_backend="dlp", project=None)
    assert load_settings(pii_backend="dlp", project="p").pii_backend == "dlp"


class _DeniedDlp:
    """DLP as a project without the API enabled or the role granted answers: 403 PermissionDenied."""

    def __init__(self, error: Exception) -> None:
        self.error, self.calls = error, 0

    def inspect_content(self, request: dict, timeout: float) -> object:
        self.calls += 1
        raise self.error


def test_a_denied_dlp_backend_stops_the_instance_at_start(caplog: pytest.LogCaptureFixture) -> None:
    from google.api_core.exceptions import PermissionDenied, ServiceUnavailable

    from shared.runtime import verify_pii_backend
    from shared.safety.pii.dlp import DlpDetector
    from shared.settings import SettingsError

    denied = DlpDetector(LOCAL, "proj-1", client=_DeniedDlp(PermissionDenied("SERVICE_DISABLED: dlp.googleapis.com")))
    with caplog.at_level("WARNING"), pytest.raises(SettingsError, match="CX_PII_BACKEND=dlp.*PermissionDenied"):
        verify_pii_backend(denied)
    assert [r.levelname for r in caplog.records if "DLP" in r.getMessage()] == ["ERROR"]
    # per call, a denied DLP still masks (locally) but says so at ERROR, not as a warning
    caplog.clear()
    with caplog.at_level("WARNING"):
        assert Pseudonymizer(denied).mask("call me on 0716967895") == "call me on [PHONE_1]"
    assert [r.levelname for r in caplog.records if "DLP" in r.getMessage()] == ["ERROR"]
    # a transient outage at start does not stop the instance: the per-call fallback covers it
    flaky = DlpDetector(LOCAL, "proj-1", client=_DeniedDlp(ServiceUnavailable("try again")))
    verify_pii_backend(flaky)
    assert flaky.client.calls == 1
