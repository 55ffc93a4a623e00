"""Authorization and audit on every customer read, through the deployed entry points.

* a forged identity header gets 401 on every HTTP function;
* a customer outside the caller's scope is answered exactly like an unknown one (no enumeration);
* every read (allowed or not) publishes ``audit.customer_access`` naming the fields disclosed;
* every capability that builds a prompt applies the data-access policy (config/safety/context_policy.yaml).
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from functions_framework import create_app

from shared.runtime import Runtime
from shared.safety.context_policy import ContextPolicy
from shared.safety.pii.base import customer_key
from shared.settings import ROOT
from tests.conftest import EventSink, agent_headers

CHAT = [
    {"speaker": "agent", "text": "Hello, how can I help?"},
    {"speaker": "customer", "text": "My internet keeps dropping out since Monday."},
    {"speaker": "agent", "text": "A technician comes by Friday. Anything else I can do for you?"},
]
BODIES: dict[str, dict[str, Any]] = {
    "context_summary": {"channel": "chat"},
    "next_best_action": {"channel": "chat", "transcript": CHAT},
    "reply_draft": {"channel": "email", "message": "My internet keeps dropping out. Please fix it.", "language": "en"},
    "next_steps": {"channel": "chat", "transcript": CHAT},
    "closing_message": {"channel": "email"},
}
TICKETS = {"C-1004": "T-1004-01", "C-1002": "T-1002-01", "C-9999": "T-9999-01"}
WITH_TICKET = ("next_steps",)


def call(target: str, body: dict[str, Any], headers: dict[str, str]) -> Any:
    client = create_app(target=target, source=str(ROOT / "main.py")).test_client()
    return client.post("/", json=body, headers=headers)


def body_for(capability: str, customer: str) -> dict[str, Any]:
    extra = {"ticket_id": TICKETS[customer]} if capability in WITH_TICKET else {}
    return {"customer_id": customer, **BODIES[capability], **extra}


def audits(sink: EventSink, n: int, request_ids: set[str]) -> list[dict[str, Any]]:
    return sink.collect(n, lambda e: e["event_type"] == "audit.customer_access" and e["request_id"] in request_ids)


@pytest.mark.parametrize("capability", [*BODIES, "confirm_next_steps", "feedback"])
def test_forged_identity_headers_are_refused_everywhere(capability: str, runtime: Runtime) -> None:
    resp = call(capability, {"customer_id": "C-1001"}, {"X-Agent-Id": "agent-1", "X-Agent-Role": "supervisor"})
    assert resp.status_code == 401
    assert resp.get_json()["error"]["code"] == "unauthenticated"


@pytest.mark.parametrize("capability", list(BODIES))
def test_forbidden_and_unknown_customers_answer_alike(capability: str, runtime: Runtime, event_sink: EventSink) -> None:
    uk_agent = agent_headers("agent-uk-1", "uk")  # team care-uk; C-1002 is served by care-eu
    forbidden = call(capability, body_for(capability, "C-1002"), uk_agent)
    unknown = call(capability, body_for(capability, "C-9999"), uk_agent)
    assert forbidden.status_code == unknown.status_code == 404
    strip = lambda r: {**r.get_json()["error"], "request_id": None}  # noqa: E731
    assert (
        strip(forbidden) == strip(unknown) == {"code": "not_found", "message": "customer not found", "request_id": None}
    )
    assert call(capability, body_for(capability, "C-1002"), agent_headers("agent-eu-1")).status_code == 200

    runtime.events.flush()
    ids = {forbidden.headers["X-Request-Id"]: "out_of_scope", unknown.headers["X-Request-Id"]: "unknown"}
    events = audits(event_sink, 2, set(ids))
    assert {e["request_id"]: e["reason"] for e in events} == ids
    for e in events:
        assert (e["decision"], e["capability"], e["agent_id"], e["role"], e["fields"]) == (
            "deny",
            capability,
            "agent-uk-1",
            "agent",
            [],
        )
        assert "C-1002" not in json.dumps(e) and "C-9999" not in json.dumps(e)  # pseudonymous key only


def test_every_allowed_read_is_audited_with_the_disclosed_fields(runtime: Runtime, event_sink: EventSink) -> None:
    social = call("context_summary", {"customer_id": "C-1004", "channel": "social"}, agent_headers("agent-a"))
    lead = call("next_best_action", body_for("next_best_action", "C-1002"), agent_headers("lead-a", "supervisor"))
    agent = call("next_best_action", body_for("next_best_action", "C-1002"), agent_headers("agent-a"))
    assert social.status_code == lead.status_code == agent.status_code == 200
    runtime.events.flush()
    ids = {r.headers["X-Request-Id"]: name for r, name in ((social, "social"), (lead, "lead"), (agent, "agent"))}
    by = {ids[e["request_id"]]: e for e in audits(event_sink, 3, set(ids))}
    policy = runtime.context_policy
    assert by["social"]["fields"] == sorted(policy.allowed("social", "EU", role="agent", capability="context_summary"))
    assert "name" not in by["social"]["fields"] and "notes" not in by["social"]["fields"]
    assert (by["social"]["decision"], by["social"]["tenant"], by["social"]["grant"], by["social"]["auth_source"]) == (
        "allow",
        "acme",
        "demo-agents",
        "local",
    )
    assert by["social"]["customer_key"] == customer_key("C-1004", runtime.settings.pseudonym_key)
    # scoring details: shown to supervisors, and the audit says so
    assert by["lead"]["details"] == ["scoring"] and by["agent"]["details"] == []
    assert lead.get_json()["scores"] and lead.get_json()["suppressed"]
    assert agent.get_json()["scores"] == [] and agent.get_json()["suppressed"] == []
    assert agent.get_json()["primary"] == lead.get_json()["primary"]  # same decision, fewer internals


class Recorder:
    """The runtime's engine, keeping every prompt it is given."""

    def __init__(self, engine: Any) -> None:
        self.engine = engine
        self.prompts: list[Any] = []

    def generate(self, prompt: Any, schema: Any) -> Any:
        self.prompts.append(prompt)
        return self.engine.generate(prompt, schema)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.engine, name)


MINIMAL = ContextPolicy.model_validate({"version": "test-minimal", "default": {"allow": ["language", "segment"]}})


@pytest.mark.parametrize("capability", list(BODIES))
@pytest.mark.parametrize("policy", ["configured", "minimal"])
def test_each_capability_builds_its_prompt_through_the_data_access_policy(
    capability: str, policy: str, runtime: Runtime, event_sink: EventSink
) -> None:
    if policy == "minimal":
        runtime.__dict__["context_policy"] = MINIMAL  # before the first read builds the access door
    recorder = Recorder(runtime.engine)
    runtime.__dict__["engine"] = recorder
    resp = call(capability, body_for(capability, "C-1004"), agent_headers("agent-p"))
    assert resp.status_code == 200, resp.get_json()
    (prompt,) = recorder.prompts
    sent = json.dumps(prompt.context, ensure_ascii=False)  # what the templates render into the prompt
    if policy == "configured":  # the control: the same call does send the customer's name
        assert "[CUSTOMER_NAME]" in sent or "[CUSTOMER_FIRST_NAME]" in sent
    else:
        for withheld in (
            "[CUSTOMER_NAME]",
            "[CUSTOMER_FIRST_NAME]",
            "Sabine",
            "Hoffmann",
            '"churn_risk"',
            '"lifetime_value"',
            '"notes"',
            '"recent_orders"',
        ):
            assert withheld not in sent, f"{capability} sent {withheld} although the policy withholds it"
    runtime.events.flush()
    (audit,) = audits(event_sink, 1, {resp.headers["X-Request-Id"]})
    expected = MINIMAL if policy == "minimal" else runtime.context_policy
    assert audit["fields"] == sorted(
        expected.allowed(BODIES[capability]["channel"], "EU", role="agent", capability=capability)
    )
    assert audit["context_policy_version"] == expected.version
