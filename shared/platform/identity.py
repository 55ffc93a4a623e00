"""Who is calling, from a verified token only; never from a header or URL the browser controls.

Two ways in, both checked with ``google.oauth2.id_token.verify_token``:

* **Through Identity-Aware Proxy** (the load balancer's front door). IAP signs
  ``x-goog-iap-jwt-assertion`` (ES256) with the keys at :data:`IAP_CERTS_URL`; the token must
  carry issuer :data:`IAP_ISSUER` and one of the backend services' audiences (``CX_IAP_AUDIENCE``).
  A person's identity headers (``X-Agent-Id``/``X-Agent-Role``) sent alongside are a forgery
  and refused; when the token's e-mail is a platform service account on the allowlist
  (``CX_TRUSTED_PLATFORM_SAS``), its headers name the agent it acts for.
* **A platform calling a function URL directly** (the fallback when it cannot pass IAP). A
  Google ID token (``Authorization: Bearer``) whose audience is the URL it called
  (``https://`` + ``Host``: Cloud Run routes by host, so a token for another service cannot be
  replayed here) and whose verified e-mail is on the same allowlist.

Locally (``CX_ENVIRONMENT=local`` *and* ``CX_LOCAL_ISSUER_JWKS`` set) a third issuer,
:data:`LOCAL_ISSUER`, is trusted: the dev stack signs test tokens with its own ES256 key and
the public key set is read from that file, so the same verification code runs on a laptop.

What a verified identity may do (its role and the records it may see) is not decided
here: a :class:`RoleResolver` (the access policy, built by the runtime from configuration)
maps the identity to a :class:`Grant`. Key sets are fetched once and cached
(:class:`CertsCache`); the fetcher is injectable, so tests run offline.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

from shared.platform.errors import BadRequest, Forbidden, Unauthenticated, Unavailable
from shared.settings import Settings

IAP_HEADER = "X-Goog-IAP-JWT-Assertion"
AGENT_ID_HEADER = "X-Agent-Id"
AGENT_ROLE_HEADER = "X-Agent-Role"
IAP_CERTS_URL = "https://www.gstatic.com/iap/verify/public_key-jwk"
IAP_ISSUER = "https://cloud.google.com/iap"
GOOGLE_CERTS_URL = "https://www.googleapis.com/oauth2/v3/certs"
GOOGLE_ISSUERS = ("accounts.google.com", "https://accounts.google.com")
LOCAL_ISSUER = "cx-copilot-local-issuer"
LOCAL_CERTS_URL = "local:cx-copilot-local-issuer/jwks"
LOCAL_AUDIENCE = "cx-copilot-local"
ROLES: tuple[str, ...] = ("agent", "supervisor", "backoffice", "system", "privacy")
CERTS_TTL_S = 300.0  # IAP and Google rotate keys over days and publish the next ones in advance
_SAFE_ID = re.compile(r"^[A-Za-z0-9._:@-]{1,128}$")

Source = Literal["iap", "platform", "local"]


@dataclass(frozen=True)
class Identity:
    """A verified caller: ``subject`` is the stable id recorded with suggestions and audit events
    (IAP's ``sub``, the platform's agent id); ``email`` and ``groups`` only select a grant."""

    subject: str
    source: Source
    email: str | None = None
    groups: tuple[str, ...] = ()
    platform: str | None = None
    asserted_role: str | None = None


@dataclass(frozen=True)
class Grant:
    """A role and the records it may see: attribute → allowed values (``*`` = any)."""

    role: str
    scope: Mapping[str, frozenset[str]] = field(default_factory=dict)
    rule: str = ""


@dataclass(frozen=True)
class Principal:
    identity: Identity
    grant: Grant

    @property
    def agent_id(self) -> str:
        return self.identity.subject

    @property
    def role(self) -> str:
        return self.grant.role


class RoleResolver(Protocol):
    def grant(self, identity: Identity) -> Grant | None: ...


class _Response:
    """What google-auth's transport returns (status and bytes), for cached and local key sets."""

    def __init__(self, status: int, data: bytes) -> None:
        self.status = status
        self.data = data
        self.headers: dict[str, str] = {}


Fetch = Callable[..., Any]  # a google.auth.transport.Request: fetch(url, method="GET") -> response


class CertsCache:
    """Public key sets by URL, fetched once per ``ttl_s`` and shared by every request of the instance.

    ``id_token.verify_token`` fetches its ``certs_url`` through the ``request`` it is given on every
    call; this object is that request, so the key set costs one fetch per instance and TTL. The
    local issuer's key set is served from a file under :data:`LOCAL_CERTS_URL`.
    """

    def __init__(
        self,
        fetch: Fetch | None = None,
        *,
        ttl_s: float = CERTS_TTL_S,
        refetch_after_s: float = 30.0,
        local: dict[str, bytes] | None = None,
    ) -> None:
        self._fetch = fetch
        self._ttl = ttl_s
        self._refetch_after = refetch_after_s
        self._local = dict(local or {})
        self._lock = threading.Lock()
        self._cache: dict[str, tuple[float, _Response]] = {}

    def _transport(self) -> Fetch:
        if self._fetch is None:
            import google.auth.transport.requests

            self._fetch = google.auth.transport.requests.Request()
        return self._fetch

    def __call__(self, url: str, method: str = "GET", **_: Any) -> _Response:
        if url in self._local:
            return _Response(200, self._local[url])
        now = time.monotonic()
        with self._lock:
            hit = self._cache.get(url)
            if hit and now - hit[0] < self._ttl:
                return hit[1]
            resp = self._transport()(url, method="GET", timeout=5)
            answer = _Response(resp.status, bytes(resp.data))
            if answer.status == 200:
                self._cache[url] = (now, answer)
            return answer

    def serve(self, url: str, data: bytes) -> None:
        """Answer ``url`` from ``data`` (the local issuer's key set file), never from the network."""
        self._local[url] = data

    def forget(self, url: str) -> None:
        """Drop a cached key set (a token names a key the cached set lacks: keys rotated). At most once per
        ``refetch_after_s``, so tokens with made-up key ids cannot turn every request into a key fetch."""
        with self._lock:
            hit = self._cache.get(url)
            if hit and time.monotonic() - hit[0] >= self._refetch_after:
                self._cache.pop(url, None)


def local_jwks(path: Path) -> bytes:
    """The local issuer's public key set, checked to be a JWK set."""
    data = path.read_bytes()
    if not isinstance(json.loads(data).get("keys"), list):
        raise ValueError(f"{path} is not a JWK set")
    return data


class Authenticator:
    """Verifies a request's token and maps the identity to a grant; one per instance, thread-safe."""

    def __init__(
        self,
        settings: Settings,
        resolver: RoleResolver | None = None,
        *,
        certs: CertsCache | None = None,
        leeway_s: int = 0,
    ) -> None:
        self.settings = settings
        self.resolver = resolver
        self.local_enabled = settings.environment == "local" and settings.local_issuer_jwks is not None
        self.certs = certs or CertsCache()
        if self.local_enabled:
            self.certs.serve(LOCAL_CERTS_URL, local_jwks(settings.local_issuer_jwks))  # type: ignore[arg-type]
        self.leeway_s = leeway_s

    # --- verification ---------------------------------------------------------------

    def _source(
        self, issuer: str, kind: Literal["user", "platform"], own_url: str | None
    ) -> tuple[str, list[str], Source]:
        """(certs URL, expected audience, source) for an issuer, or 401 for one not trusted here."""
        s = self.settings
        if issuer == LOCAL_ISSUER and self.local_enabled:
            return LOCAL_CERTS_URL, [LOCAL_AUDIENCE], "local"
        if kind == "user" and issuer == IAP_ISSUER:
            return IAP_CERTS_URL, list(s.iap_audience), "iap"
        if kind == "platform" and issuer in GOOGLE_ISSUERS:
            return GOOGLE_CERTS_URL, [own_url] if own_url else [], "platform"
        raise Unauthenticated(
            "identity token from an issuer that is not trusted",
            details=[{"field": "token", "problem": "untrusted issuer"}],
        )

    def verify(
        self, token: str, kind: Literal["user", "platform"], own_url: str | None = None
    ) -> tuple[dict[str, Any], Source]:
        """The token's verified claims and where it came from; 401 if it does not verify."""
        import jwt as pyjwt
        from google.auth import exceptions as auth_exceptions
        from google.oauth2 import id_token

        try:
            issuer = str(pyjwt.decode(token, options={"verify_signature": False}).get("iss", ""))
        except pyjwt.PyJWTError:
            raise _invalid("malformed token") from None
        certs_url, audience, source = self._source(issuer, kind, own_url)
        if not audience:
            raise _invalid("no audience is configured for this issuer")
        claims: dict[str, Any] | None = None
        for attempt in (1, 2):
            try:
                claims = dict(
                    id_token.verify_token(
                        token,
                        self.certs,  # type: ignore[arg-type]  # a Request-like cache of the key set
                        audience=audience,
                        certs_url=certs_url,
                        clock_skew_in_seconds=self.leeway_s,
                    )
                )
                break
            except auth_exceptions.TransportError:
                raise Unavailable("identity keys could not be fetched; retry") from None
            except pyjwt.PyJWKClientError:
                if attempt == 2:
                    raise _invalid("signed with an unknown key") from None
                self.certs.forget(certs_url)  # keys rotate: fetch once more, then give up
            except pyjwt.ExpiredSignatureError:
                raise _invalid("token expired") from None
            except pyjwt.InvalidAudienceError:
                raise _invalid("wrong audience") from None
            except (pyjwt.PyJWTError, ValueError, auth_exceptions.GoogleAuthError) as exc:
                raise _invalid(
                    "expired"
                    if "expired" in str(exc).lower()
                    else "wrong audience"
                    if "audience" in str(exc).lower()
                    else "invalid token"
                ) from None
        assert claims is not None
        if claims.get("iss") != issuer or "exp" not in claims or "iat" not in claims:
            raise _invalid("token lacks issuer, expiry or issue time")
        return claims, source

    # --- the request ----------------------------------------------------------------

    def _trusted_platform(self, email: str | None) -> bool:
        return email is not None and email in {sa.lower() for sa in self.settings.trusted_platform_sas}

    @staticmethod
    def _acting_for(email: str, asserted_id: str | None, asserted_role: str | None) -> Identity:
        """The agent a trusted platform service account acts for, from its X-Agent-* headers."""
        problems = []
        if asserted_id is None or not _SAFE_ID.match(asserted_id):
            problem = "required from the platform" if asserted_id is None else "invalid agent id"
            problems.append({"field": f"header:{AGENT_ID_HEADER}", "problem": problem})
        if asserted_role is not None and asserted_role not in ROLES:
            problems.append({"field": f"header:{AGENT_ROLE_HEADER}", "problem": f"must be one of {list(ROLES)}"})
        if problems:
            raise BadRequest("invalid caller identity", details=problems)
        return Identity(subject=str(asserted_id), source="platform", platform=email, asserted_role=asserted_role)

    def identify(self, headers: Mapping[str, str]) -> Identity:
        """The verified identity behind a request's headers (401/403 otherwise)."""
        iap = headers.get(IAP_HEADER)
        auth = headers.get("Authorization", "")
        asserted_id, asserted_role = headers.get(AGENT_ID_HEADER), headers.get(AGENT_ROLE_HEADER)
        if iap:
            claims, source = self.verify(iap, "user")
            email = _email(claims)
            if self._trusted_platform(email):  # the platform's service account came through IAP
                return self._acting_for(str(email), asserted_id, asserted_role)
            if asserted_id is not None or asserted_role is not None:
                field = f"header:{AGENT_ID_HEADER if asserted_id is not None else AGENT_ROLE_HEADER}"
                raise Forbidden(
                    "identity headers are accepted only from a trusted platform service account",
                    details=[{"field": field, "problem": "not accepted from a signed-in person"}],
                )
            subject = str(claims.get("sub") or "")
            if not _SAFE_ID.match(subject):
                raise _invalid("token has no usable subject")
            groups = tuple(g for g in claims.get("groups") or () if isinstance(g, str))
            return Identity(subject=subject, source=source, email=email, groups=groups)
        if auth.lower().startswith("bearer "):
            host = headers.get("Host", "")
            claims, _ = self.verify(auth[7:].strip(), "platform", f"https://{host}" if host else None)
            email = _email(claims)
            if not self._trusted_platform(email):
                raise Forbidden("this service account is not on the trusted platform list")
            return self._acting_for(str(email), asserted_id, asserted_role)
        if asserted_id is not None or asserted_role is not None:
            raise Unauthenticated(
                "identity headers without a verified token are not accepted",
                details=[{"field": "header:Authorization", "problem": "sign in through the front door"}],
            )
        raise Unauthenticated(
            "sign-in required", details=[{"field": f"header:{IAP_HEADER}", "problem": "missing identity token"}]
        )

    def authenticate(self, headers: Mapping[str, str]) -> Principal:
        """Identity and grant, or 401/403: an identity with no configured role may do nothing."""
        identity = self.identify(headers)
        grant = self.resolver.grant(identity) if self.resolver else None
        if grant is None:
            raise Forbidden("no role is configured for this identity")
        return Principal(identity, grant)


def _email(claims: Mapping[str, Any]) -> str | None:
    email = claims.get("email")
    if not isinstance(email, str) or claims.get("email_verified") is False:
        return None
    return email.lower()


def _invalid(problem: str) -> Unauthenticated:
    return Unauthenticated("identity token rejected", details=[{"field": "token", "problem": problem}])


# --- the local issuer (dev stack and tests) -------------------------------------------------


@dataclass
class LocalIssuer:
    """Signs ES256 tokens the local stack's functions verify (``CX_LOCAL_ISSUER_JWKS``).

    Only for ``CX_ENVIRONMENT=local``: the settings refuse the key set anywhere else. The
    private key lives in the dev stack's process (and ``.local/issuer``), never in a function.
    """

    private_pem: bytes
    kid: str = "local-1"

    @classmethod
    def generate(cls, kid: str = "local-1") -> LocalIssuer:
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import ec

        key = ec.generate_private_key(ec.SECP256R1())
        pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        return cls(pem, kid)

    @classmethod
    def load_or_create(cls, directory: Path) -> LocalIssuer:
        """The issuer key in ``directory`` (created on first use) and its ``jwks.json`` beside it."""
        directory.mkdir(parents=True, exist_ok=True)
        key_file = directory / "issuer-key.pem"
        if key_file.is_file():
            issuer = cls(key_file.read_bytes())
        else:
            issuer = cls.generate()
            key_file.write_bytes(issuer.private_pem)
            key_file.chmod(0o600)
        issuer.write_jwks(directory / "jwks.json")
        return issuer

    def jwks(self) -> dict[str, Any]:
        import jwt as pyjwt
        from cryptography.hazmat.primitives import serialization

        public = serialization.load_pem_private_key(self.private_pem, password=None).public_key()
        jwk = json.loads(pyjwt.algorithms.ECAlgorithm.to_jwk(public))  # type: ignore[arg-type]  # an EC key
        return {"keys": [{**jwk, "kid": self.kid, "alg": "ES256", "use": "sig"}]}

    def write_jwks(self, path: Path) -> Path:
        path.write_text(json.dumps(self.jwks(), indent=2) + "\n", "utf-8")
        return path

    def sign(
        self, claims: Mapping[str, Any], *, audience: str = LOCAL_AUDIENCE, ttl_s: int = 3600, now: float | None = None
    ) -> str:
        """A token for ``claims`` (``sub``, ``email``, ``groups``) issued by the local issuer."""
        import jwt as pyjwt

        issued = int(now if now is not None else time.time())
        payload = {"iss": LOCAL_ISSUER, "aud": audience, "iat": issued, "exp": issued + ttl_s, **claims}
        return pyjwt.encode(payload, self.private_pem, algorithm="ES256", headers={"kid": self.kid})
