"""Structural next-step extraction per failure class, English and German (sentences written
for these tests, not taken from any gold set), the splitter and the extractive summary."""

from __future__ import annotations

import pytest

from scripts.eval_next_steps import key_in, match, rouge, score
from shared.language.extraction import Extractor, condense
from shared.language.nlp import SentenceSplitter, split_sentences
from shared.settings import ROOT

EX = Extractor(ROOT / "config" / "language/extraction.yaml")
DUE_WORDS = (
    "tomorrow",
    "übermorgen",
    "morgen",
    "by friday",
    "bis freitag",
    "within",
    "innerhalb",
    "on monday",
    "am montag",
    "tonight",
    "heute abend",
    "next week",
)


def fake_due(text: str, language: str) -> str | None:
    low = text.lower()
    return next((w for w in DUE_WORDS if w in low), None)


def actions(lang: str, *turns: tuple[str, str]) -> list[dict]:
    return EX.actions([{"speaker": s, "text": t} for s, t in turns], lang, fake_due)


def owners(lang: str, *turns: tuple[str, str]) -> list[str]:
    return [a["owner"] for a in actions(lang, *turns)]


# --- negations never become tasks -------------------------------------------------------------


@pytest.mark.parametrize(
    ("lang", "sentence"),
    [
        ("en", "You won't have to send anything back."),
        ("en", "There's nothing you need to do on your side."),
        ("en", "No engineer visit will be needed."),
        ("de", "Sie müssen dafür nichts unternehmen."),
        ("de", "Eine Rücksendung ist nicht nötig."),
        ("de", "Sie brauchen keine weiteren Unterlagen zu schicken."),
    ],
)
def test_negation_is_never_a_task(lang: str, sentence: str) -> None:
    assert actions(lang, ("agent", sentence)) == []


def test_negation_beside_a_real_step_keeps_only_the_step() -> None:
    found = actions("de", ("agent", "Sie müssen nichts tun, die Erstattung kommt innerhalb von 3 Tagen."))
    assert [(a["owner"], a["description"]) for a in found] == [
        ("backoffice", "die Erstattung kommt innerhalb von 3 Tagen.")
    ]
    found = actions("en", ("agent", "You don't need to call us, the credit is applied by Friday."))
    assert [a["owner"] for a in found] == ["backoffice"] and "call" not in found[0]["description"]


def test_negation_inside_a_condition_does_not_cancel_the_step() -> None:
    found = actions("en", ("agent", "If the reset does not fix it, I'll book an engineer for next week."))
    assert [a["owner"] for a in found] == ["agent"] and found[0]["conditional"] is True
    found = actions("de", ("agent", "Falls der Neustart nicht hilft, schicke ich Ihnen morgen ein neues Gerät."))
    assert [a["owner"] for a in found] == ["agent"] and found[0]["due_text"] == "morgen"


def test_an_untimed_step_under_a_condition_is_due_when_the_condition_is_checked() -> None:
    # the condition has its own date: the step is due then; the step after it is not
    call, visit = actions(
        "en", ("agent", "If the line still drops by Friday, call our hotline and we'll send a technician.")
    )
    assert (call["owner"], call["due_text"]) == ("customer", "by friday")
    assert (visit["owner"], visit["due_text"]) == ("agent", None)
    call, visit = actions(
        "de",
        (
            "agent",
            "Falls die Leitung bis Freitag weiter abbricht, rufen Sie uns an, dann schicken wir einen Techniker.",
        ),
    )
    assert (call["owner"], call["due_text"], visit["due_text"]) == ("customer", "bis freitag", None)
    # "still": checked when the step before it in the same turn is due
    found = actions(
        "en", ("agent", "Please unplug the box tonight for a minute. If the picture is still frozen, ring us back.")
    )
    assert [a["due_text"] for a in found] == ["tonight", "tonight"]
    found = actions(
        "de",
        (
            "agent",
            "Starten Sie das Gerät bitte heute Abend neu. Wenn das Bild dann immer noch hängt, rufen Sie uns an.",
        ),
    )
    assert [a["due_text"] for a in found] == ["heute abend", "heute abend"]
    # a condition that is not about the earlier step persisting gives no date
    found = actions("en", ("agent", "Please unplug the box tonight. If it ever freezes again, ring us back."))
    assert [a["due_text"] for a in found] == ["tonight", None]


# --- threats, warned consequences, options, status quo: never tasks ----------------------------------


@pytest.mark.parametrize(
    ("lang", "speaker", "sentence"),
    [
        ("en", "customer", "Sort out my bill by Friday or I'll switch to another provider."),
        ("en", "customer", "Refund the fee today, otherwise I'm going to the ombudsman."),
        ("en", "customer", "If you don't fix the line this week, I will cancel my contract."),
        ("de", "customer", "Erstatten Sie mir die Gebühr bis Freitag, sonst gehe ich zur Verbraucherzentrale."),
        ("de", "customer", "Wenn das bis Montag nicht läuft, kündige ich den Vertrag."),
        ("de", "customer", "Klären Sie das heute, oder ich wende mich an die Schlichtungsstelle."),
    ],
)
def test_a_customer_threat_is_not_a_customer_action(lang: str, speaker: str, sentence: str) -> None:
    found = EX.clauses([{"speaker": speaker, "text": sentence}], lang)
    assert actions(lang, (speaker, sentence)) == []
    assert "ultimatum" in [c.act for c in found]  # kept as a signal, not dropped silently


def test_a_warned_consequence_is_not_a_step_but_the_instruction_is() -> None:
    found = actions("en", ("agent", "Please sign the form by Friday, otherwise the order will lapse."))
    assert [a["owner"] for a in found] == ["customer"] and "lapse" not in found[0]["description"]
    found = actions("de", ("agent", "Bitte unterschreiben Sie bis Freitag, andernfalls verfällt das Angebot."))
    assert [a["owner"] for a in found] == ["customer"] and "verfällt" not in found[0]["description"]


def test_the_alternative_after_a_possibility_is_an_option() -> None:
    assert actions("de", ("agent", "Sie können uns gern anrufen, oder Ihre Tochter meldet Sie im Portal an.")) == []
    assert actions("en", ("agent", "You could phone us, or your son can add you in the portal.")) == []


def test_keeping_things_as_they_are_is_a_step_only_with_a_time() -> None:
    assert actions("en", ("agent", "No, simply keep it switched on.")) == []
    assert actions("de", ("agent", "Nein, lassen Sie das Modem einfach eingesteckt.")) == []
    assert owners("en", ("agent", "Please leave the modem plugged in tonight.")) == ["customer"]
    assert owners("de", ("agent", "Lassen Sie das Modem heute Abend bitte eingeschaltet.")) == ["customer"]


def test_a_request_the_customer_reports_done_is_not_open() -> None:
    assert actions("en", ("agent", "Could you send me a photo of the label?"), ("customer", "Sure, here it is.")) == []
    assert actions("en", ("agent", "Please restart the modem."), ("customer", "Already tried that twice.")) == []
    assert actions("de", ("agent", "Können Sie den Router neu starten?"), ("customer", "Hab ich bereits.")) == []
    # Not answered as done: the request stays (for review when untimed).
    found = actions(
        "en",
        ("agent", "Could you send me a photo of the label?"),
        ("customer", "I'm not at home, I'll do it tomorrow."),
    )
    assert [a["owner"] for a in found if "photo" in a["description"]] == ["customer"]


def test_the_visible_effect_of_a_finished_action_is_not_a_step() -> None:
    turn = ("agent", "I've added the discount to your order; you'll see the lower price when you reload the page.")
    assert actions("en", turn) == []
    # With a time it is a real pending process.
    assert owners("en", ("agent", "I've raised the refund; you'll see it on your card within 5 days.")) == [
        "backoffice"
    ]


def test_branches_put_to_the_customer_as_a_question_are_not_steps() -> None:
    turn = (
        "agent",
        "If you still have the box, we'll collect it on Monday; if you don't, we'll send a bag tomorrow. Which is it?",
    )
    assert actions("en", turn) == []
    turn = (
        "agent",
        "Falls die Rechnung offen ist, verrechnen wir den Betrag am Montag. Falls Sie schon bezahlt "
        "haben, überweisen wir ihn morgen zurück. Was trifft zu?",
    )
    assert actions("de", turn) == []


# --- precision: acceptances, pauses, states, fragments ------------------------------------------------


def test_a_customer_accepting_an_untimed_request_is_one_step_with_the_customers_time() -> None:
    (one,) = actions(
        "en",
        ("agent", "Could you upload a copy of your ID in the app?"),
        ("customer", "Sure, I'll upload the copy tomorrow."),
    )
    assert one["owner"] == "customer" and "ID" in one["description"] and one["due_text"] == "tomorrow"
    (eins,) = actions(
        "de",
        ("agent", "Könnten Sie uns den Kaufbeleg schicken?"),
        ("customer", "Den Kaufbeleg schicke ich Ihnen morgen."),
    )
    assert eins["owner"] == "customer" and eins["due_text"] == "morgen" and not eins["needs_review"]
    # The request has its own deadline: the earlier promise is a second date, both stay.
    found = actions("en", ("agent", "Please sign the mandate by Friday."), ("customer", "I'll sign it tonight."))
    assert [a["due_text"] for a in found] == ["by friday", "tonight"]


def test_a_pause_ends_the_sentence_and_what_is_said_while_doing_it_is_not_open() -> None:
    assert split_sentences("Let me look... right, the voucher expired yesterday.") == [
        "Let me look...",
        "right, the voucher expired yesterday.",
    ]
    assert actions("en", ("agent", "Let me look... vouchers from the app are valid for a month.")) == []
    assert actions("de", ("agent", "Ich öffne Ihren Vertrag... ja, der läuft noch bis März.")) == []
    assert actions("de", ("agent", "Drücken Sie bitte die Reset-Taste zehn Sekunden... leuchtet es rot?")) == []


@pytest.mark.parametrize(
    ("lang", "sentence"),
    [
        ("en", "The voucher should already be in your account."),
        ("en", "Your engineer has already been booked."),
        ("de", "Die Gutschrift ist bereits auf Ihrem Konto."),
        ("de", "Die Dezemberrechnung ist erst am 12. Januar fällig."),
        ("de", "Ab Montag gilt dann der neue Tarif."),
        ("de", "Mit besten Grüßen, Ihr Team Kundenservice"),
        ("de", "Ihre Buchung, mit dem Vermerk 'Kulanz'."),
    ],
)
def test_states_and_fragments_are_not_steps(lang: str, sentence: str) -> None:
    assert actions(lang, ("agent", sentence)) == []


@pytest.mark.parametrize(
    ("lang", "speaker", "sentence"),
    [
        ("en", "agent", "The modem will reboot on its own in a few minutes."),
        ("de", "agent", "Das Gerät startet danach von selbst neu."),
        ("en", "agent", "I can hold the order for a week, so you can decide in peace."),
        ("en", "agent", "Noted."),
        ("en", "agent", "Okay, let's do both."),
        ("de", "agent", "Gut, dann machen wir beides."),
        ("en", "customer", "Sure, I'll do both."),
    ],
)
def test_self_acting_purposes_and_bare_acceptances_are_not_steps(lang: str, speaker: str, sentence: str) -> None:
    assert actions(lang, (speaker, sentence)) == []


def test_stages_of_one_process_are_one_step_dated_by_the_last_stage() -> None:
    (one,) = actions("en", ("agent", "The replacement will be dispatched today and should reach you by friday."))
    assert one["owner"] == "backoffice" and one["due_text"] == "by friday" and "dispatched" in one["description"]
    # Two subjects, two steps.
    found = actions(
        "en",
        (
            "agent",
            "A courier will collect the old unit on Monday and the warehouse will send the new one within 3 days.",
        ),
    )
    assert [a["due_text"] for a in found] == ["on monday", "within"]


@pytest.mark.parametrize(
    ("lang", "sentence"),
    [
        ("en", "The engineer will probably want to see the wiring."),
        ("de", "Die Technik braucht vermutlich noch Ihre Seriennummer."),
        ("en", "You receive the PIN by text right away."),
        ("de", "Sie bekommen die PIN sofort per SMS."),
        ("de", "Sollte der Router bis dahin ausfallen, kann es an der Leitung liegen."),
        ("de", "Diesen Monat entfällt die Grundgebühr."),
    ],
)
def test_guesses_immediate_effects_and_verb_first_conditions_are_not_steps(lang: str, sentence: str) -> None:
    assert actions(lang, ("agent", sentence)) == []


def test_a_guess_with_a_time_and_an_elided_subject_stay_one_step() -> None:
    (one,) = actions("de", ("agent", "Die Netzabteilung prüft die Leitung und repariert sie voraussichtlich morgen."))
    assert one["owner"] == "backoffice" and "repariert" in one["description"] and one["due_text"] == "morgen"


def test_german_clause_boundaries() -> None:
    # "…, bis der Techniker kommt" belongs to the instruction before it.
    (keep,) = actions("de", ("agent", "Bitte heben Sie den Karton auf, bis der Techniker ihn mitnimmt."))
    assert keep["owner"] == "customer" and "Techniker" in keep["description"]
    # A semicolon starts a new clause, also before "bitte".
    (backup,) = actions(
        "de", ("agent", "Die Cloud bleibt noch 60 Tage aktiv; bitte laden Sie Ihre Fotos bis Freitag herunter.")
    )
    assert backup["owner"] == "customer" and backup["description"].startswith("bitte laden")


# --- questions ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lang", "speaker", "sentence"),
    [
        ("en", "customer", "Could you please tell me how you can help with this?"),
        ("en", "customer", "Please let me know what you can do."),
        ("en", "agent", "Would you like me to email the invoice as well?"),
        ("en", "agent", "Can you tell me the serial number on the box?"),
        ("de", "customer", "Können Sie mir bitte sagen, wie es weitergeht?"),
        ("de", "agent", "Möchten Sie, dass ich Ihnen die Rechnung per Post schicke?"),
        ("de", "agent", "Können Sie mir Ihre Vertragsnummer nennen?"),
    ],
)
def test_questions_and_offers_are_not_tasks(lang: str, speaker: str, sentence: str) -> None:
    assert actions(lang, (speaker, sentence)) == []


def test_an_agent_request_for_later_is_a_customer_step() -> None:
    (timed,) = actions("en", ("agent", "Could you post the old modem back to us by Friday?"))
    assert timed["owner"] == "customer" and not timed["needs_review"]
    (untimed,) = actions("en", ("agent", "Could you send us a photo of the label?"))
    assert untimed["owner"] == "customer" and untimed["needs_review"]  # may be done on the line: agent decides
    assert actions("en", ("agent", "Could you restart the router for me now?")) == []  # done during the contact
    (de,) = actions("de", ("agent", "Könnten Sie uns bis Freitag ein Foto vom Typenschild schicken?"))
    assert de["owner"] == "customer" and de["due_text"] == "bis freitag"


# --- plain instructions, passive and third-party commitments -------------------------------------


@pytest.mark.parametrize(
    ("lang", "sentence", "owner"),
    [
        ("en", "Please take the device to any partner shop within 10 days.", "customer"),
        ("en", "Keep the receipt until the refund has arrived.", "customer"),
        ("en", "Once the courier has collected it, the new handset will go out within 3 business days.", "backoffice"),
        ("en", "The credit will show on your next bill.", "backoffice"),
        ("en", "Your case will be reviewed by the complaints team tomorrow.", "backoffice"),
        ("en", "You'll receive a confirmation email within the hour.", "backoffice"),
        ("de", "Bitte füllen Sie das Formular bis Freitag aus.", "customer"),
        ("de", "Die Gutschrift wird innerhalb von 5 Werktagen gebucht.", "backoffice"),
        ("de", "Der Kurier holt das Paket am Montag ab.", "backoffice"),
        ("de", "Sie erhalten morgen eine Bestätigung per E-Mail.", "backoffice"),
    ],
)
def test_instructions_and_impersonal_commitments(lang: str, sentence: str, owner: str) -> None:
    assert owners(lang, ("agent", sentence)) == [owner]


def test_coordinated_instructions_are_separate_steps() -> None:
    found = actions("en", ("agent", "Please sign the form by Friday and return the old box within 14 days."))
    assert [(a["owner"], a["due_text"]) for a in found] == [("customer", "by friday"), ("customer", "within")]


# --- owners --------------------------------------------------------------------------------------


def test_owner_rules() -> None:
    # Filing with a team is the agent's own act.
    assert owners("en", ("agent", "I'll raise a claim with our billing team today.")) == ["agent"]
    # Asking a supervisor: the agent asks, the supervisor decides.
    found = actions("en", ("agent", "I'll ask my manager to cancel the fee."))
    assert [a["owner"] for a in found] == ["agent", "backoffice"] and "cancel" in found[1]["description"]
    # Arranged for someone else: back office (the arranging itself is done).
    found = actions("de", ("agent", "Ich frage meinen Teamleiter, ob wir die Gebühr erstatten können."))
    assert [a["owner"] for a in found] == ["agent", "backoffice"] and "erstatten" in found[1]["description"]
    assert owners("en", ("agent", "I've arranged for an engineer to visit you on Monday.")) == ["backoffice"]
    assert owners("de", ("agent", "Ich habe einen Kurier für Montag beauftragt.")) == ["backoffice"]
    # "we" without a named team is the agent.
    assert owners("en", ("agent", "We'll send you a prepaid label tomorrow.")) == ["agent"]
    # Done during the contact: not a step.
    assert actions("en", ("agent", "I've already refunded the charge.")) == []
    assert actions("en", ("agent", "Let me check your account...")) == []


def test_customer_commitments_and_acknowledgements() -> None:
    assert owners("en", ("customer", "I'll upload the certificate tonight.")) == ["customer"]
    assert owners("de", ("customer", "Ich schicke Ihnen die Unterlagen morgen.")) == ["customer"]
    assert actions("en", ("customer", "OK, I'll do that.")) == []  # points back to the agent's request
    assert actions("en", ("customer", "I'll wait for your call then.")) == []
    assert actions("de", ("customer", "Ich habe den Router schon neu gestartet.")) == []


# --- German word order ------------------------------------------------------------------------------


def test_german_word_order() -> None:
    (merged,) = actions("de", ("agent", "Ich prüfe das und melde mich übermorgen."))
    assert merged["owner"] == "agent" and merged["due_text"] == "übermorgen"  # one subject, one step
    (inverted,) = actions("de", ("agent", "Sobald das Gerät bei uns ist, schicken wir Ihnen kostenlos Ersatz."))
    assert inverted["owner"] == "agent" and inverted["conditional"] and "Ersatz" in inverted["description"]
    (object_sie,) = actions("de", ("agent", "Ich rufe Sie morgen an."))
    assert object_sie["owner"] == "agent"  # "Sie" is the object here, not the subject
    found = actions("de", ("agent", "Ich leite das an die Technik weiter und der Techniker ruft Sie morgen an."))
    assert [a["owner"] for a in found] == ["agent", "backoffice"]
    assert actions("de", ("agent", "Ich sehe, dass die Zahlung doppelt abgebucht wurde.")) == []


def test_confidence_and_review_threshold_from_config() -> None:
    found = actions("en", ("agent", "I'll send the label today."), ("agent", "Could you send us a photo?"))
    by_owner = {a["owner"]: a for a in found}
    assert by_owner["agent"]["confidence"] == 0.9 and not by_owner["agent"]["needs_review"]
    assert by_owner["customer"]["confidence"] < EX.review_below <= by_owner["agent"]["confidence"]


# --- splitter --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "Der Termin ist am 11. Dezember. Bitte seien Sie da.",
            ["Der Termin ist am 11. Dezember.", "Bitte seien Sie da."],
        ),
        (
            "Bitte senden Sie z. B. die Rechnung Nr. 5 mit. Danke!",
            ["Bitte senden Sie z. B. die Rechnung Nr. 5 mit.", "Danke!"],
        ),
        (
            "Dr. Smith will call you, e.g. on Monday. Is that OK?",
            ["Dr. Smith will call you, e.g. on Monday.", "Is that OK?"],
        ),
        ("See www.example.com. Thanks\nBye", ["See www.example.com.", "Thanks", "Bye"]),
    ],
)
def test_sentence_splitter(text: str, expected: list[str]) -> None:
    assert split_sentences(text) == expected


def test_splitter_words_come_from_config() -> None:
    splitter = SentenceSplitter(abbreviations={"approx"}, months=set())
    assert splitter.split("It costs approx. 5 euros. Fine.") == ["It costs approx. 5 euros.", "Fine."]
    assert SentenceSplitter(set(), set()).split("It costs approx. 5 euros.") == ["It costs approx.", "5 euros."]


# --- extractive summary -------------------------------------------------------------------------------


def test_summary_picks_problem_and_resolution_not_the_greeting() -> None:
    turns = [
        {"speaker": "customer", "text": "Hi there! Kindly let me know how you can help."},
        {"speaker": "customer", "text": "My broadband drops every evening since the storm."},
        {"speaker": "agent", "text": "Thanks for waiting. I can see errors on your line."},
        {"speaker": "agent", "text": "An engineer will repair the broadband line on Monday."},
        {"speaker": "customer", "text": "Thanks!"},
    ]
    picked = [s["text"] for s in EX.summary_sentences(turns, "en", limit=2)]
    assert picked == [
        "My broadband drops every evening since the storm.",
        "An engineer will repair the broadband line on Monday.",
    ]
    note = "Customer: Hello. My invoice shows a wrong charge for roaming.\nAgent: I will remove the roaming charge."
    assert condense(note) == "My invoice shows a wrong charge for roaming. I will remove the roaming charge."
    assert condense("Short note.") == "Short note."


# --- scorer --------------------------------------------------------------------------------------------


def test_scorer_matches_one_to_one_by_key_or_stem() -> None:
    assert key_in("redeliver", "Redelivery booked for Saturday") and key_in("returns", "Please return it")
    assert not key_in("refund", "We will send a replacement")
    gold = [
        {"owner": "customer", "key": "return", "due_by": None},
        {"owner": "backoffice", "key": "refund", "due_by": "ask"},
    ]
    pred = [
        {
            "owner": "backoffice",
            "description": "Our team will refund the returned item",
            "due_by": None,
            "due_status": "ask_agent",
        },
        {"owner": "customer", "description": "Please return the box", "due_by": None},
    ]
    assert sorted(match(gold, pred)) == [(0, 1), (1, 0)]  # same owner preferred, each prediction used once
    case = {
        "id": "x",
        "language": "en",
        "channel": "chat",
        "classes": ["negation"],
        "group": "G",
        "first_contact_resolvable": False,
        "actions": gold,
        "not_actions": ["postage"],
    }
    pred.append({"owner": "customer", "description": "Pay the postage", "due_by": None})
    result = score(
        [case],
        {"x": {"actions": pred, "resolver_group": "G", "first_contact_resolvable": {"value": True}}},
        detail=True,
    )
    assert (result["action_recall"], result["action_precision"], result["due_date_exact"]) == (1.0, 0.667, 1.0)
    assert result["not_action_leaks"] == 1 and result["fcr_accuracy"] == 0.0
    assert result["by"]["class"]["negation"]["not_action_leaks"] == 1


def test_rouge() -> None:
    assert rouge("the cat sat", "the cat sat") == (1.0, 1.0)
    r1, rl = rouge("the cat sat on the mat", "a cat sat on a mat")
    assert 0 < rl <= r1 < 1
