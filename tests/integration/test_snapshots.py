from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from shared.data.snapshots import Customer, Interaction, Profile
from shared.platform.errors import NotFound
from shared.runtime import Runtime

pytestmark = pytest.mark.integration
T0 = datetime(2026, 1, 1, tzinfo=UTC)


def test_snapshot_is_bounded_and_newest_first(runtime: Runtime) -> None:
    snap = runtime.snapshots.get_snapshot("C-1004", limit=25)
    assert len(snap.interactions) == 25
    times = [i.occurred_at for i in snap.interactions]
    assert times == sorted(times, reverse=True)
    assert snap.customer.stats.interactions_total == 600
    assert {t.ticket_id for t in snap.open_tickets} == {"T-1004-01", "T-1004-02"}


def test_unknown_customer_raises_not_found(runtime: Runtime) -> None:
    with pytest.raises(NotFound):
        runtime.snapshots.get_snapshot("C-404")


def test_record_interaction_is_transactional_and_idempotent(runtime: Runtime) -> None:
    repo = runtime.snapshots
    repo.put_customer(Customer(customer_id="C-TX-1", profile=Profile(name="Test Person"), customer_since=T0))
    first = Interaction(
        interaction_id="i-1",
        channel="chat",
        occurred_at=T0 + timedelta(days=1),
        summary="asked about invoice",
        sentiment="negative",
        sentiment_score=-0.5,
        category="billing",
    )
    stats = repo.record_interaction("C-TX-1", first)
    again = repo.record_interaction("C-TX-1", first)  # a redelivery changes nothing
    assert stats == again
    assert stats.interactions_total == 1 and stats.category_counts == {"billing": 1}
    second = first.model_copy(
        update={"interaction_id": "i-2", "occurred_at": T0, "sentiment": "positive", "sentiment_score": 0.5}
    )
    stats = repo.record_interaction("C-TX-1", second)
    assert stats.interactions_total == 2 and stats.sentiment_counts == {"negative": 1, "positive": 1}
    assert stats.first_contact_at == T0 and stats.last_contact_at == T0 + timedelta(days=1)
    snap = repo.get_snapshot("C-TX-1")
    assert [i.interaction_id for i in snap.interactions] == ["i-1", "i-2"]
    assert snap.customer.stats == stats
    with pytest.raises(NotFound):
        repo.record_interaction("C-TX-missing", first)
