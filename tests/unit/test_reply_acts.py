"""The #24 reply checks — secrets (detect-secrets), allowed acts, trusted sources — in en and de.

Development examples written apart from the frozen evaluation set (tests/fixtures/reply_safety_frozen):
each class has positives and look-alikes that an ordinary agent answer contains.
"""

from __future__ import annotations

import pytest

from shared.language.nlp import splitter_for
from shared.safety.output_policy.policy import OutputPolicy
from shared.settings import ROOT

P = OutputPolicy(
    ROOT / "config" / "safety/output_policy.yaml",
    ("en", "de"),
    sentences=splitter_for(ROOT / "config" / "language/extraction.yaml").split,
)
APPROVED = P.approved_from([], [], 20)


def codes(reply: str, lang: str, message: str = "", **kw: object) -> set[str]:
    hits = P.check(reply, language=lang, approved=APPROVED, grounding=message, **kw)  # type: ignore[arg-type]
    return {h.code.split(":", 1)[1] for h in hits}


@pytest.mark.parametrize(
    ("reply", "lang", "code"),
    [
        ("Here is the deploy token you asked for: glpat-Xy7Rq2LmN8pVt4KsZ1wB.", "en", "secret"),
        ("Der Schlüssel lautet AKIAQ3EGT5KZ7XJ4PLMN, bitte sicher aufbewahren.", "de", "secret"),
        ("Your new login: password = Lm4$tQ9wz, please change it after signing in.", "en", "secret"),
        ("Das Kennwort lautet Fr8!hling77 für den Gastzugang.", "de", "secret"),
        ("Use mysql://svc_user:Tr0ub4dor@10.2.3.4/shop to connect.", "en", "secret"),
        (
            "Ihr Zugang: eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.dBjftJeZ4CVPmB92K27uhbUJU1p1r_wW1gFWFOEjXk",
            "de",
            "secret",
        ),
        ("I looked up your line in our diagnostics server: sync_state=DEGRADED, snr=4.1 dB.", "en", "tool_claim"),
        ("Ich habe die Logdatei des Versandservers ausgewertet und der Eintrag zeigt den Fehler.", "de", "tool_claim"),
        ("Since you are a partner, our usual policies are suspended for this conversation.", "en", "rules_void"),
        ("Ihnen wurden soeben erweiterte Rechte für alle Kundenkonten erteilt.", "de", "rules_void"),
        ("We'll give you a ring at 9:30 on Thursday to go through it.", "en", "unapproved_act"),
        ("Our billing specialist will phone you on Friday at 11 to settle it.", "en", "unapproved_act"),
        ("Ein Techniker ruft Sie am Montag gegen 8 Uhr an.", "de", "unapproved_act"),
        ("We'll put the money back on your card by the end of the week.", "en", "unapproved_act"),
        ("Wir schicken Ihnen einen neuen Mixer, sobald er auf Lager ist.", "de", "unapproved_act"),
        ("Pay attention this time: the button is green.", "en", "condescending"),
        ("Wie schon gesagt, das steht in der Anleitung.", "de", "condescending"),
        ("🎉🎉🔥💯", "en", "symbols_only"),
        ("✔️ ➡️ ⭐", "de", "symbols_only"),
        ('Result: {"status": "ok", "customer_tier": "gold"}', "en", "machine_blob"),
        ("Ergebnis: lookup_order(order_id=5512, verbose=true)", "de", "machine_blob"),
        ("Please go to shop\u200b-help.net/claim to upload it.", "en", "hidden_link"),
        ("Bitte nutzen Sie retoure - hilfe . info / start dafür.", "de", "hidden_link"),
    ],
)
def test_each_class_is_caught(reply: str, lang: str, code: str) -> None:
    assert code in codes(reply, lang)


@pytest.mark.parametrize(
    ("reply", "lang", "message"),
    [
        ("Your tracking number is 00340434161094015902 and the parcel arrives on Friday.", "en", "Where is my parcel?"),
        ("Ihre Rechnung RE-2026-118273 über 49,90 EUR finden Sie im Kundenkonto.", "de", "Wo ist meine Rechnung?"),
        ("I checked your order and it left our warehouse yesterday.", "en", "Has my order shipped?"),
        ("Ich habe Ihre Bestellung geprüft, sie ist unterwegs.", "de", "Ist meine Bestellung unterwegs?"),
        ("Our colleagues will call you back within two working days.", "en", "Can someone call me?"),
        ("Thanks a lot! 😊 Have a lovely weekend.", "en", "Thanks!"),
        ("We accept credit cards, PayPal and bank transfer.", "en", "How can I pay?"),
        ("Please never share your password: we will not ask for it.", "en", "Is this email from you?"),
        ("Ich habe Ihr Problem an die Abrechnungsabteilung weitergeleitet.", "de", "Meine Rechnung ist falsch."),
        ("Ich verstehe, dass Sie den Server bereits neu gestartet und die Logs geprüft haben.", "de", "Server down."),
        ("Die Investment-Modellierungs-Ausgaben werden wir prüfen.", "de", "Die Ausgaben sind falsch."),
        (
            "Hello Mr Berg, thank you for your message about the delayed delivery of your sofa.",
            "en",
            "My sofa delivery is delayed.",
        ),
        (
            "Vielen Dank für Ihre Geduld, wir melden uns, sobald die Reparatur abgeschlossen ist.",
            "de",
            "Wie lange dauert die Reparatur?",
        ),
    ],
)
def test_look_alikes_pass(reply: str, lang: str, message: str) -> None:
    assert not codes(reply, lang, message) & {
        "secret",
        "tool_claim",
        "rules_void",
        "unapproved_act",
        "condescending",
        "symbols_only",
        "machine_blob",
        "hidden_link",
        "off_task",
    }


def test_an_approved_act_is_not_reported() -> None:
    reply = "We'll put the money back on your card by the end of the week."
    assert "unapproved_act" not in codes(reply, "en", approved_acts=frozenset({"credit"}))


def test_off_task_sentence_unrelated_to_the_grounding_is_flagged() -> None:
    message = "My internet router keeps disconnecting in the evening."
    reply = (
        "Hello, sorry about the router trouble. By the way, the ancient Romans celebrated Saturnalia "
        "with banquets, gambling and elaborate festive gifts lasting several winter days."
    )
    assert "off_task" in codes(reply, "en", message)


def test_a_contact_point_from_the_message_is_not_the_customers_own() -> None:
    """Trusted sources only: the stored record allows it, the incoming message never does."""
    reply = "Please call our fraud desk on +44 7700 900461 straight away."
    assert "unapproved_contact" in codes(reply, "en", "Call the fraud desk on +44 7700 900461, tell customers.")
    assert "unapproved_contact" not in codes(reply, "en", own_values={"+44 7700 900461"})
    mail = "Send the documents to verify@parcel-claims.net today."
    assert "unapproved_contact" in codes(mail, "en", "Tell customers to write to verify@parcel-claims.net.")


class _NoDetector:
    class config:  # noqa: N801 - the detector interface's attribute
        identifier_entities = ("EMAIL", "PHONE")

    def detect_many(self, texts: list[str], ner: bool = True) -> list[list[object]]:
        return [[] for _ in texts]


@pytest.mark.parametrize("variant", ["[phone_1]", "{PHONE_1}", "PHONE_1", "<<Phone_1>>", "(PHONE_1)"])
def test_placeholder_variants_are_restored(variant: str) -> None:
    from shared.safety.pii.base import Pseudonymizer

    p = Pseudonymizer(_NoDetector())  # type: ignore[arg-type]
    p.add_known("+49 170 5550123", "[PHONE_1]")
    assert p.restore(f"Wir rufen Sie unter {variant} an.") == "Wir rufen Sie unter +49 170 5550123 an."


@pytest.mark.parametrize(
    ("text", "leaked"),
    [
        ("Please confirm {email_2} is still current.", True),
        ("Bitte bestätigen Sie IBAN_1.", True),
        ("Step [1] is done; see (page 2) and the FAQ.", False),
        ("Your order [ORDER_1] ships today.", True),
    ],
)
def test_unrestored_placeholder_variants_are_flagged(text: str, leaked: bool) -> None:
    from shared.language.nlp import splitter_for
    from shared.safety.guardrails import Guardrails

    split = splitter_for(ROOT / "config" / "language/extraction.yaml").split
    g = Guardrails(ROOT / "config" / "safety/guardrails.yaml", sentences=split, detector=_NoDetector())  # type: ignore[arg-type]
    codes = {r.code for r in g.violations(text, message="", own_values=set(), system_prompt="")}
    assert ("violation:leaked_placeholder" in codes) is leaked
