"""config/safety/access.yaml: who gets which role and which customers; the audit event it produces."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import ValidationError

from shared.data.snapshots import Customer, CustomerSnapshot, Profile
from shared.platform.calls import CallContext
from shared.platform.errors import NotFound
from shared.platform.identity import Identity, Principal
from shared.safety.access import AccessPolicy, CustomerAccess, CustomerUnavailable
from shared.safety.context_policy import ContextPolicy
from shared.settings import ROOT

POLICY = AccessPolicy.load(ROOT / "config" / "safety/access.yaml")
CONTEXT = ContextPolicy.load(ROOT / "config" / "safety/context_policy.yaml")


def person(*groups: str, email: str | None = None) -> Identity:
    return Identity(subject="accounts.google.com:1", source="iap", email=email, groups=groups)


def customer(region: str = "EU", team: str | None = "care-eu", tenant: str | None = "acme") -> Customer:
    return Customer(
        customer_id="C-1",
        profile=Profile(name="Ada Lovelace", region=region),
        tenant=tenant,
        brand="acme-telecom",
        team=team,
        customer_since=datetime(2020, 1, 1, tzinfo=UTC),
    )


def test_grants_come_from_configuration_first_match_wins() -> None:
    lead = POLICY.grant(person("cx-demo-supervisors", "cx-demo-agents"))
    assert lead is not None and (lead.role, lead.rule) == ("supervisor", "demo-supervisors")
    uk = POLICY.grant(person("cx-demo-agents-uk"))
    assert uk is not None and uk.role == "agent" and uk.scope["team"] == frozenset({"care-uk"})
    assert POLICY.grant(person("strangers", email="someone@example.com")) is None


def test_the_platform_asserts_roles_only_within_its_grant() -> None:
    def via_platform(role: str | None) -> Any:
        return POLICY.grant(
            Identity(subject="agent-7", source="platform", platform="cc@p.iam.gserviceaccount.com", asserted_role=role)
        )

    assert via_platform(None).role == "agent" and via_platform("supervisor").role == "supervisor"
    assert via_platform("system") is None  # not among the roles the platform grant allows
    assert POLICY.grant(Identity(subject="x", source="iap", groups=("cx-demo-agents",))).role == "agent"


def test_scope_checks_every_listed_attribute() -> None:
    uk = POLICY.grant(person("cx-demo-agents-uk"))
    everyone = POLICY.grant(person("cx-demo-agents"))
    assert uk and everyone
    assert POLICY.permits(uk, customer("UK", "care-uk")) and not POLICY.permits(uk, customer("EU", "care-eu"))
    assert POLICY.permits(everyone, customer("US", "care-us"))
    assert not POLICY.permits(everyone, customer(tenant="other-client"))
    assert not POLICY.permits(everyone, customer(tenant=None))  # an untagged customer is outside a tenant scope


def test_a_scope_must_name_known_attributes_and_values() -> None:
    base = {"version": "t", "grants": [{"name": "g", "match": {"groups": ["a"]}, "role": "agent"}]}
    with pytest.raises(ValidationError, match="unknown scope fields"):
        AccessPolicy.model_validate({**base, "grants": [{**base["grants"][0], "scope": {"segment": ["gold"]}}]})
    with pytest.raises(ValidationError, match="empty scope list"):
        AccessPolicy.model_validate({**base, "grants": [{**base["grants"][0], "scope": {"region": []}}]})


def test_the_door_audits_allow_and_deny_alike_and_hides_which_it_was() -> None:
    published: list[Any] = []
    door = CustomerAccess(POLICY, CONTEXT, published.append, "k" * 32)
    uk = CallContext(
        request_id="r-uk",
        agent_id="agent-uk",
        agent_role="agent",
        principal=Principal(person("cx-demo-agents-uk"), POLICY.grant(person("cx-demo-agents-uk"))),
    )

    def unknown() -> CustomerSnapshot:
        raise NotFound("customer 'C-404' not found")

    with pytest.raises(CustomerUnavailable) as forbidden:
        door.open(uk, "context_summary", "C-1", lambda: CustomerSnapshot(customer=customer()), channel="chat")
    with pytest.raises(CustomerUnavailable) as missing:
        door.open(uk, "context_summary", "C-404", unknown, channel="chat")
    assert (forbidden.value.status, forbidden.value.message) == (missing.value.status, missing.value.message)
    assert [(e.decision, e.reason, e.tenant) for e in published] == [
        ("deny", "out_of_scope", "acme"),
        ("deny", "unknown", "acme"),
    ]
    view = door.open(
        uk, "context_summary", "C-1", lambda: CustomerSnapshot(customer=customer("UK", "care-uk")), channel="phone"
    )
    allowed = published[-1]
    assert allowed.decision == "allow" and allowed.fields == sorted(view.allowed) and "notes" not in view.allowed
    assert allowed.customer_key != "C-1" and "C-1" not in allowed.model_dump_json()
