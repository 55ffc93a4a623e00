"""No placeholder the request did not create reaches the agent or the customer, in any output field."""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import BaseModel

from shared.safety.pii.base import Pseudonymizer, Span
from shared.safety.placeholders import scrub_text


class Action(BaseModel):
    owner: str
    description: str


class Output(BaseModel):
    message: str
    summary: str
    questions: list[str]
    actions: list[Action]
    reply: str = ""


class KnownOnly:
    """No detected PII: only the request's known identifiers become placeholders."""

    def detect_many(self, texts: Sequence[str], *, ner: bool = True) -> list[list[Span]]:
        return [[] for _ in texts]


def _pseudo() -> Pseudonymizer:
    p = Pseudonymizer(KnownOnly(), ner=False)
    p.add_known("Anna Schmidt", "[CUSTOMER_NAME]")
    p.add_known("+49 170 1234567", "[PHONE_1]")
    return p


def test_known_placeholders_are_restored_and_invented_ones_removed_from_every_field() -> None:
    pseudo = _pseudo()
    out = pseudo.restore_model(
        Output(
            message="Dear [CUSTOMER_NAME], we will call [PHONE_1] or [PHONE_4] tomorrow.",
            summary="Customer asked about [ORDER_9 and [IBAN_2].",
            questions=["Is CUSTOMER_EMAIL_2] still valid?", "Did [customer_name_1] confirm?", "Anything else?"],
            actions=[Action(owner="agent", description="Call [PHONE_4] back")],
        )
    )
    assert out.message == "Dear Anna Schmidt, we will call +49 170 1234567 or tomorrow."
    assert out.summary == "Customer asked about and."
    assert out.questions == ["Is still valid?", "Did confirm?", "Anything else?"]
    assert out.actions[0].description == "Call back"
    assert pseudo.review_flags == [
        "unknown_placeholder_removed:actions.0.description",
        "unknown_placeholder_removed:message",
        "unknown_placeholder_removed:questions.0",
        "unknown_placeholder_removed:questions.1",
        "unknown_placeholder_removed:summary",
    ]


def test_clean_output_is_untouched_and_unflagged() -> None:
    pseudo = _pseudo()
    original = Output(
        message="Thanks [CUSTOMER_NAME]! See section [3] and ISO 9001.", summary="ok", questions=[], actions=[]
    )
    out = pseudo.restore_model(original)
    assert out.message == "Thanks Anna Schmidt! See section [3] and ISO 9001." and pseudo.review_flags == []


def test_a_field_left_to_a_stronger_check_is_kept_as_is() -> None:
    pseudo = _pseudo()
    out = pseudo.restore_model(
        Output(message="hi", summary="s", questions=[], actions=[], reply="Call [PHONE_7]"), keep=("reply",)
    )
    assert out.reply == "Call [PHONE_7]" and pseudo.review_flags == []


def test_scrub_reports_what_kind_was_removed() -> None:
    assert scrub_text("a [X_1] b") == ("a b", ["unknown"])
    assert scrub_text("[NAME_2 wrote") == ("wrote", ["malformed"])
    assert scrub_text("plain text") == ("plain text", [])
