from __future__ import annotations

import pytest

from scripts.seed import SEEDS, build
from shared.context import pseudonymizer_for
from shared.pii import Pseudonymizer, customer_key, detect
from shared.snapshots import CustomerSnapshot


def _entities(text: str) -> list[tuple[str, str]]:
    return [(s.entity, s.text) for s in detect(text)]


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


@pytest.mark.parametrize(
    "text", ["IBAN DE88 3704 0044 0532 0130 00 is mistyped", "card 4111 1111 1111 1112 is not a card"]
)
def test_checksums_decide_the_label(text: str) -> None:
    """A mistyped IBAN or card is not labelled as one (it may still be masked as a number)."""
    assert [s for s in detect(text) if s.entity in ("IBAN", "CARD")] == []


@pytest.mark.parametrize(
    "text",
    [
        "order placed on 2026-11-20 10:30 for 1 299 EUR",  # dates and amounts
        "server 10.20.30.40 answered",  # IPv4, not a phone
        "ticket T-1004-01 and house 43 73313",
    ],
)
def test_ignores_lookalikes(text: str) -> None:
    assert [s for s in detect(text) if s.entity in ("IBAN", "CARD", "PHONE")] == []


def test_placeholders_are_stable_and_restorable() -> None:
    p = Pseudonymizer()
    p.add_known("Sabine Hoffmann", "[CUSTOMER_NAME]")
    p.add_known("Sabine", "[CUSTOMER_FIRST_NAME]")
    text = "Sabine Hoffmann wrote from a@b.de and again from A@B.DE; Sabine also gave x@y.org"
    masked = p.mask(text)
    assert masked == (
        "[CUSTOMER_NAME] wrote from [EMAIL_1] and again from [EMAIL_1]; "
        "[CUSTOMER_FIRST_NAME] also gave [EMAIL_2]"
    )
    assert p.restore(masked) == "Sabine Hoffmann wrote from a@b.de and again from a@b.de; Sabine also gave x@y.org"


def test_known_identifiers_need_word_boundaries() -> None:
    p = Pseudonymizer()
    p.add_known("Ann", "[CUSTOMER_FIRST_NAME]")
    assert p.mask("Annual plan for Ann") == "Annual plan for [CUSTOMER_FIRST_NAME]"


def test_snapshot_identifiers_never_survive_masking() -> None:
    customer, items = build(SEEDS[3])
    snap = CustomerSnapshot(
        customer=customer,
        orders=[i for i in items if type(i).__name__ == "Order"],
        interactions=[i for i in items if type(i).__name__ == "Interaction"][:20],
    )
    p = pseudonymizer_for(snap)
    blob = str(p.mask_obj(snap.model_dump(mode="json")))
    addr = customer.profile.address
    assert addr is not None
    for raw in [customer.profile.name, customer.profile.email, customer.profile.phone, addr.street,
                customer.customer_id, *customer.account_ids, *(o.order_id for o in snap.orders)]:  # fmt: skip
        assert raw and raw not in blob
    assert "[CUSTOMER_NAME]" in blob and "[ORDER_1]" in blob


def test_customer_key_is_keyed_and_stable() -> None:
    a = customer_key("C-1001", "k" * 32)
    assert a == customer_key("C-1001", "k" * 32)
    assert a != customer_key("C-1001", "j" * 32)
    assert "1001" not in a and len(a) == 24
