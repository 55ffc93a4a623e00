"""Verified identity: only a signed, unexpired token for our audience from a trusted issuer gets in.

Offline: Google's and IAP's key sets are served by an injected fetcher (CertsCache(fetch=...)),
signed here with throw-away ES256 keys; the local issuer's key set is the tests' (conftest).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import flask
import pytest
from pydantic import BaseModel, ConfigDict

from shared.platform.calls import CallContext
from shared.platform.errors import BadRequest, Forbidden, Unauthenticated
from shared.platform.http import ENDPOINTS, endpoint
from shared.platform.identity import (
    GOOGLE_CERTS_URL,
    IAP_CERTS_URL,
    IAP_HEADER,
    IAP_ISSUER,
    Authenticator,
    CertsCache,
    LocalIssuer,
)
from shared.safety.access import AccessPolicy
from shared.settings import ROOT, SettingsError, load_settings
from tests.conftest import ISSUER, agent_headers, agent_token

AUDIENCE = "/projects/123456/global/backendServices/987"
FUNCTION_HOST = "context-summary-abc123-ew.a.run.app"  # the fallback: the platform calls the function URL
PLATFORM_AUDIENCE = f"https://{FUNCTION_HOST}"
PLATFORM_SA = "contact-center@platform-project.iam.gserviceaccount.com"
POLICY = AccessPolicy.load(ROOT / "config" / "safety/access.yaml")
IAP = LocalIssuer.generate(kid="iap-key-1")  # stands in for Google's IAP signing key
GOOGLE = LocalIssuer.generate(kid="google-key-1")  # stands in for Google's ID-token key


class FakeFetch:
    """google.auth.transport.Request stand-in: key sets by URL, and how often each was fetched."""

    def __init__(self) -> None:
        self.sets = {IAP_CERTS_URL: IAP.jwks(), GOOGLE_CERTS_URL: GOOGLE.jwks()}
        self.calls: list[str] = []

    def __call__(self, url: str, method: str = "GET", **_: Any) -> Any:
        self.calls.append(url)

        class Resp:
            status = 200
            data = json.dumps(self.sets[url]).encode()

        return Resp()


@pytest.fixture
def fetch() -> FakeFetch:
    return FakeFetch()


def auth(fetch: FakeFetch, **overrides: Any) -> Authenticator:
    values: dict[str, Any] = {
        "model_backend": "offline",
        "iap_audience": [AUDIENCE],
        "trusted_platform_sas": [PLATFORM_SA],
    }
    values.update(overrides)
    return Authenticator(load_settings(**values), POLICY, certs=CertsCache(fetch))


def iap_token(email: str = "lead@example.com", **claims: Any) -> str:
    return IAP.sign(
        {"iss": IAP_ISSUER, "sub": "accounts.google.com:1234567890", "email": email, **claims},
        audience=claims.pop("aud", AUDIENCE),
    )


def platform_token(email: str = PLATFORM_SA, **claims: Any) -> str:
    return GOOGLE.sign(
        {"iss": "https://accounts.google.com", "sub": "1099", "email": email, "email_verified": True, **claims},
        audience=PLATFORM_AUDIENCE,
    )


def bearer(token: str, **headers: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", "Host": FUNCTION_HOST, **headers}


# --- who gets in ------------------------------------------------------------------------------


def test_local_token_signed_by_the_dev_issuer_gives_the_configured_role(fetch: FakeFetch) -> None:
    principal = auth(fetch).authenticate(agent_headers("agent-042"))
    assert (principal.agent_id, principal.role, principal.identity.source) == ("agent-042", "agent", "local")
    assert principal.grant.scope["tenant"] == frozenset({"acme"})
    lead = auth(fetch).authenticate(agent_headers("lead-1", "supervisor"))
    assert lead.role == "supervisor"
    assert fetch.calls == []  # the local key set is a file: no network


def test_iap_token_is_verified_against_the_iap_key_set_fetched_once(fetch: FakeFetch) -> None:
    policy_with_lead = AccessPolicy.model_validate(
        {
            **POLICY.model_dump(),
            "grants": [{"name": "leads", "match": {"emails": ["lead@example.com"]}, "role": "supervisor"}],
        }
    )
    authenticator = Authenticator(auth(fetch).settings, policy_with_lead, certs=CertsCache(fetch))
    for _ in range(3):
        principal = authenticator.authenticate({IAP_HEADER: iap_token()})
    assert (principal.agent_id, principal.role, principal.identity.source) == (
        "accounts.google.com:1234567890",
        "supervisor",
        "iap",
    )
    assert fetch.calls == [IAP_CERTS_URL]  # cached for the instance, not fetched per request


def test_platform_service_account_on_the_allowlist_speaks_for_its_agent(fetch: FakeFetch) -> None:
    principal = auth(fetch).authenticate(
        bearer(platform_token(), **{"X-Agent-Id": "agent-7", "X-Agent-Role": "supervisor"})
    )
    assert (principal.agent_id, principal.role, principal.identity.source) == ("agent-7", "supervisor", "platform")
    assert principal.identity.platform == PLATFORM_SA
    default = auth(fetch).authenticate(bearer(platform_token(), **{"X-Agent-Id": "agent-8"}))
    assert default.role == "agent"
    # a token minted for another service cannot be replayed at this one
    elsewhere = bearer(platform_token(), **{"X-Agent-Id": "agent-8", "Host": "other-service-ew.a.run.app"})
    assert _refused(auth(fetch), elsewhere) == (401, "wrong audience")


def test_platform_service_account_through_iap_speaks_for_its_agent(fetch: FakeFetch) -> None:
    """The deployed path (docs/deploy.md): the platform passes IAP with its service account; the IAP
    assertion then carries the account's e-mail, and only then do its X-Agent-* headers count."""
    through_iap = {IAP_HEADER: iap_token(PLATFORM_SA), "X-Agent-Id": "agent-9", "X-Agent-Role": "supervisor"}
    principal = auth(fetch).authenticate(through_iap)
    assert (principal.agent_id, principal.role, principal.identity.platform) == ("agent-9", "supervisor", PLATFORM_SA)
    assert _refused(auth(fetch), {IAP_HEADER: iap_token(PLATFORM_SA)})[0] == 400  # which agent, then?
    person = {IAP_HEADER: iap_token("agent@example.com"), "X-Agent-Id": "agent-9", "X-Agent-Role": "supervisor"}
    assert _refused(auth(fetch), person) == (403, "not accepted from a signed-in person")


# --- who does not -------------------------------------------------------------------------------


def _refused(authenticator: Authenticator, headers: dict[str, str]) -> tuple[int, str]:
    with pytest.raises((Unauthenticated, Forbidden, BadRequest)) as caught:
        authenticator.authenticate(headers)
    err = caught.value
    return err.status, (err.details[0]["problem"] if err.details else err.message)


def test_no_token_and_forged_identity_headers_are_refused(fetch: FakeFetch) -> None:
    a = auth(fetch)
    assert _refused(a, {})[0] == 401
    assert _refused(a, {"X-Agent-Id": "agent-1", "X-Agent-Role": "supervisor"})[0] == 401
    # a signed-in person adding an identity header: a forgery, whatever the token says
    status, problem = _refused(a, {**agent_headers("agent-1"), "X-Agent-Role": "supervisor"})
    assert (status, problem) == (403, "not accepted from a signed-in person")


def test_unsigned_wrong_audience_expired_and_foreign_key_tokens_are_refused(fetch: FakeFetch) -> None:
    import jwt

    a = auth(fetch)
    now = int(time.time())
    claims = {
        "iss": "cx-copilot-local-issuer",
        "aud": "cx-copilot-local",
        "sub": "agent-1",
        "groups": ["cx-demo-supervisors"],
        "iat": now,
        "exp": now + 600,
    }
    unsigned = jwt.encode(claims, key=None, algorithm="none")
    assert _refused(a, {IAP_HEADER: unsigned}) == (401, "signed with an unknown key")
    unsigned_kid = jwt.encode(claims, key=None, algorithm="none", headers={"kid": ISSUER.kid})
    assert _refused(a, {IAP_HEADER: unsigned_kid})[0] == 401
    assert _refused(a, {IAP_HEADER: agent_token(aud="another-service")}) == (401, "wrong audience")
    expired = ISSUER.sign({"sub": "agent-1", "groups": ["cx-demo-agents"]}, now=now - 7200, ttl_s=600)
    assert _refused(a, {IAP_HEADER: expired}) == (401, "token expired")
    forged = LocalIssuer.generate(kid=ISSUER.kid).sign({"sub": "agent-1", "groups": ["cx-demo-supervisors"]})
    assert _refused(a, {IAP_HEADER: forged}) == (401, "invalid token")
    assert _refused(a, {IAP_HEADER: "not-a-jwt"}) == (401, "malformed token")
    assert _refused(a, {IAP_HEADER: iap_token(aud="/projects/1/global/backendServices/other")}) == (
        401,
        "wrong audience",
    )


def test_platform_tokens_need_the_allowlist_and_an_agent_id(fetch: FakeFetch) -> None:
    a = auth(fetch)
    assert (
        _refused(a, bearer(platform_token("someone@else.iam.gserviceaccount.com"), **{"X-Agent-Id": "agent-7"}))[0]
        == 403
    )
    assert _refused(a, bearer(platform_token()))[:1] == (400,)
    assert _refused(a, bearer(platform_token(), **{"X-Agent-Id": "agent-7", "X-Agent-Role": "admin"}))[0] == 400
    # an IAP token is not a platform token, and a platform token is not a person's
    assert _refused(a, bearer(iap_token(), **{"X-Agent-Id": "agent-7"})) == (401, "untrusted issuer")
    assert _refused(a, {IAP_HEADER: platform_token()}) == (401, "untrusted issuer")


def test_an_identity_without_a_grant_may_do_nothing(fetch: FakeFetch) -> None:
    status, message = _refused(auth(fetch), {IAP_HEADER: agent_token(groups=["someone-else"])})
    assert (status, message) == (403, "no role is configured for this identity")


def test_local_issuer_is_trusted_only_in_the_local_environment(fetch: FakeFetch, tmp_path: Any) -> None:
    jwks = ISSUER.write_jwks(tmp_path / "jwks.json")
    with pytest.raises(SettingsError, match="CX_LOCAL_ISSUER_JWKS"):
        load_settings(environment="dev", local_issuer_jwks=jwks)
    without = auth(fetch, local_issuer_jwks=None)
    assert _refused(without, agent_headers("agent-1")) == (401, "untrusted issuer")


# --- through the HTTP entry point ----------------------------------------------------------------

app = flask.Flask(__name__)


class Ping(BaseModel):
    model_config = ConfigDict(extra="forbid")
    customer_id: str


class Pong(BaseModel):
    agent_id: str | None
    role: str | None


@pytest.fixture
def probe(fetch: FakeFetch) -> Iterator[Any]:
    authenticator = auth(fetch)

    @endpoint(
        "identity_probe",
        Ping,
        Pong,
        settings_factory=lambda: authenticator.settings,
        authenticator=lambda: authenticator,
    )
    def handler(body: Ping, call: CallContext) -> Pong:
        return Pong(agent_id=call.agent_id, role=call.agent_role)

    yield handler
    ENDPOINTS.pop("identity_probe", None)


def _post(entry: Any, headers: dict[str, str], query: str = "") -> tuple[int, dict[str, Any]]:
    with app.test_request_context(
        f"/{query}",
        method="POST",
        data=json.dumps({"customer_id": "C-1"}),
        content_type="application/json",
        headers=headers,
    ):
        resp = entry(flask.request)
    return resp.status_code, json.loads(resp.get_data())


def test_entry_point_answers_401_and_403_as_json_errors(probe: Any) -> None:
    status, body = _post(probe, {"X-Agent-Id": "agent-1", "X-Agent-Role": "supervisor"})
    assert status == 401 and body["error"]["code"] == "unauthenticated"
    status, body = _post(probe, {**agent_headers("agent-1"), "X-Agent-Role": "supervisor"})
    assert status == 403 and body["error"]["code"] == "forbidden"
    assert body["error"]["details"] == [
        {"field": "header:X-Agent-Role", "problem": "not accepted from a signed-in person"}
    ]
    status, body = _post(probe, {IAP_HEADER: agent_token(aud="elsewhere")})
    assert status == 401 and body["error"]["details"][0] == {"field": "token", "problem": "wrong audience"}


def test_a_role_in_the_url_changes_nothing(probe: Any) -> None:
    status, body = _post(probe, agent_headers("agent-1"), query="?agent=lead-1&role=supervisor")
    assert status == 200 and body == {"agent_id": "agent-1", "role": "agent"}


def test_capability_roles_are_enforced_on_the_verified_role(fetch: FakeFetch) -> None:
    authenticator = auth(fetch)

    @endpoint(
        "identity_probe_supervisors",
        Ping,
        Pong,
        roles=("supervisor",),
        settings_factory=lambda: authenticator.settings,
        authenticator=lambda: authenticator,
    )
    def handler(body: Ping, call: CallContext) -> Pong:
        return Pong(agent_id=call.agent_id, role=call.agent_role)

    try:
        assert _post(handler, agent_headers("agent-1"))[0] == 403
        assert _post(handler, agent_headers("lead-1", "supervisor")) == (
            200,
            {"agent_id": "lead-1", "role": "supervisor"},
        )
    finally:
        ENDPOINTS.pop("identity_probe_supervisors", None)


def test_keys_are_refetched_on_rotation_but_not_for_every_made_up_key_id(fetch: FakeFetch) -> None:
    settings = auth(fetch).settings
    rotating = Authenticator(settings, POLICY, certs=CertsCache(fetch, refetch_after_s=0))
    assert rotating.identify({IAP_HEADER: iap_token()}).source == "iap"
    new_key = LocalIssuer.generate(kid="iap-key-2")
    fetch.sets[IAP_CERTS_URL] = {"keys": IAP.jwks()["keys"] + new_key.jwks()["keys"]}  # Google rotated
    rotated = new_key.sign(
        {"iss": IAP_ISSUER, "sub": "accounts.google.com:42", "email": "a@example.com"}, audience=AUDIENCE
    )
    assert rotating.identify({IAP_HEADER: rotated}).subject == "accounts.google.com:42"
    assert fetch.calls == [IAP_CERTS_URL, IAP_CERTS_URL]
    fetch.calls.clear()
    steady = auth(fetch)  # the default: a fresh key set is not refetched for unknown key ids
    steady.identify({IAP_HEADER: iap_token()})
    made_up = LocalIssuer.generate(kid="made-up").sign({"iss": IAP_ISSUER, "sub": "x"}, audience=AUDIENCE)
    for _ in range(3):
        assert _refused(steady, {IAP_HEADER: made_up}) == (401, "signed with an unknown key")
    assert fetch.calls == [IAP_CERTS_URL]
