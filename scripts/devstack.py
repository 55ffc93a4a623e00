"""The local stack: emulators, topics, demo data and every function on localhost.

    python -m scripts.devstack up          # serve until Ctrl-C; prints the agent desktop URL
    python -m scripts.devstack demo        # start, call each function, print, stop (--serve: keep it up)
    python -m scripts.devstack export-web  # the agent desktop as a static site (.local/agent-desktop)

Each function runs in its own ``functions-framework`` process, as in the cloud. No
Google Cloud project is used: the offline engine answers, labelled ``engine: offline``.

Messages published on the emulator reach the event functions as Terraform's push subscriptions
deliver them in the cloud (:class:`PushBridge`): a change event published to ``cx-snapshot-sync``
is applied by ``snapshot_sync``, a ticket close on ``cx-ticket-closed`` by ``ticket_closed``;
failures are redelivered and then parked on the dead-letter topic, where ``cx dlq replay`` finds them.

Sign-in works as behind Identity-Aware Proxy: the desktop server plays the front door. A demo
agent signs in at ``POST /auth/login`` (a local issuer's ES256 key signs the token, kept in an
HttpOnly cookie) and every ``/api/<function>`` call is forwarded with it in
``X-Goog-IAP-JWT-Assertion``; the functions verify it with the same code as IAP's tokens, trusting
the local issuer's public key only because ``CX_ENVIRONMENT=local`` (docs/identity.md).
"""

from __future__ import annotations

import argparse
import http.server
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scripts.emulators import PROJECT, Emulators, free_port, prepare
from scripts.seed import SEEDS
from shared.platform.identity import IAP_HEADER, LocalIssuer
from shared.settings import ROOT

ISSUER_DIR = ROOT / ".local" / "issuer"
SESSION_COOKIE = "cx_session"
# Demo sign-ins: the groups claim selects the grant in config/safety/access.yaml (role and customer scope).
DEMO_USERS: dict[str, dict[str, object]] = {
    "agent-demo": {"label": "Demo agent (all regions)", "groups": ["cx-demo-agents"]},
    "agent-uk": {"label": "Agent, UK care team", "groups": ["cx-demo-agents-uk"]},
    "lead-demo": {"label": "Team lead (supervisor)", "groups": ["cx-demo-supervisors"]},
    "privacy-demo": {"label": "Privacy team (access and erasure requests)", "groups": ["cx-demo-privacy"]},
}


def local_issuer(directory: Path | None = None) -> LocalIssuer:
    """The dev stack's token issuer; its public key set is what the local functions trust. The one
    already configured (CX_LOCAL_ISSUER_JWKS, key beside it: tests) is reused, else .local/issuer."""
    configured = os.environ.get("CX_LOCAL_ISSUER_JWKS")
    directory = directory or (Path(configured).parent if configured else ISSUER_DIR)
    issuer = LocalIssuer.load_or_create(directory)
    os.environ["CX_LOCAL_ISSUER_JWKS"] = str(directory / "jwks.json")
    os.environ.setdefault("CX_ENVIRONMENT", "local")
    return issuer


def signed_headers(user: str = "agent-demo") -> dict[str, str]:
    """Headers of a signed-in demo user for in-process tools (benchmarks): the local issuer is set up
    (and trusted through CX_LOCAL_ISSUER_JWKS) first, so call this before settings are first read."""
    return {IAP_HEADER: demo_token(local_issuer(), user)}


def demo_token(issuer: LocalIssuer, user: str) -> str:
    """A signed token for one demo user, as IAP issues one for a signed-in person."""
    return issuer.sign({"sub": user, "email": f"{user}@demo.cx-copilot.local", "groups": DEMO_USERS[user]["groups"]})


FUNCTIONS = [
    "context_summary",
    "next_best_action",
    "reply_draft",
    "next_steps",
    "confirm_next_steps",
    "closing_message",
    "feedback",
    "ticket_closed",
    "commitment_update",
    "commitment_sweep",
    "snapshot_sync",
    "privacy_request",
]  # every entry point in main.py but outbox_drain (locally: `cx dlq drain`)


@contextmanager
def local_stack(log_dir: Path, base_port: int | None = None) -> Iterator[dict[str, str]]:
    """Yield ``{function: url}`` with everything running; stop it all on exit."""
    with Emulators(log_dir) as emu:
        os.environ.update(emu.env)
        os.environ.setdefault("CX_MODEL_BACKEND", "offline")
        prepare()
        count = len(SEEDS)
        print(f"emulators up (firestore {emu.firestore_host}, pubsub {emu.pubsub_host}); seeded {count} customers")
        with function_servers(log_dir, base_port=base_port) as urls:
            yield urls


@contextmanager
def function_servers(
    log_dir: Path, base_port: int | None = None, names: list[str] | None = None, env: dict[str, str] | None = None
) -> Iterator[dict[str, str]]:
    """One ``functions-framework`` process per function (as in the cloud); yield ``{function: url}``.

    The processes read the emulator hosts and settings from ``env`` (default: this process's
    environment), so the caller starts the emulators first.
    """
    log_dir.mkdir(parents=True, exist_ok=True)
    procs: list[subprocess.Popen[bytes]] = []
    urls: dict[str, str] = {}
    try:
        for i, name in enumerate(names or FUNCTIONS):
            port = base_port + i if base_port else free_port()
            cmd = [
                sys.executable,
                "-m",
                "functions_framework",
                f"--target={name}",
                f"--source={ROOT / 'main.py'}",
                "--host=127.0.0.1",
                f"--port={port}",
            ]
            log = (log_dir / f"{name}.log").open("wb")
            procs.append(
                subprocess.Popen(
                    cmd,
                    cwd=ROOT,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    env=dict(env or os.environ),
                    start_new_session=True,
                )
            )
            urls[name] = f"http://127.0.0.1:{port}/"
        for name, url in urls.items():
            _wait_http(url, log_dir / f"{name}.log")
        yield urls
    finally:
        for proc in procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in procs:
            try:  # a graceful stop flushes pending events; a loaded machine may need longer than usual
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)


WEB_ROOT = ROOT / "web" / "agent-desktop"
# Forwarded as sent (IAP does too): identity headers from a browser reach the functions, which refuse them.
PROXY_HEADERS = ("Content-Type", "X-Agent-Id", "X-Agent-Role", "X-Request-Id", "X-Cloud-Trace-Context")


def queue_catalogue_json() -> bytes:
    """The resolver groups the next-steps dropdown offers, read from config/decisions/queues.yaml."""
    from shared.decisions.queues import QueueCatalogue
    from shared.settings import get_settings

    cat = QueueCatalogue.load(get_settings().config_dir / "decisions/queues.yaml")
    groups = [{"label": g.label, "code": g.code, "sla_business_days": g.sla_business_days} for g in cat.groups]
    body = {"version": cat.version, "triage": {"label": cat.triage.label, "code": cat.triage.code}, "groups": groups}
    return json.dumps(body, ensure_ascii=False).encode()


class _DesktopHandler(http.server.SimpleHTTPRequestHandler):
    """The agent desktop's files, ``/queues.json`` from the catalogue, and ``/api/<function>``
    forwarded to the function servers: one origin, so the browser needs no CORS."""

    urls: dict[str, str] = {}
    issuer: LocalIssuer | None = None

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, directory=str(WEB_ROOT), **kwargs)  # type: ignore[arg-type]

    def end_headers(self) -> None:
        self.send_header("Cache-Control", "no-store")
        super().end_headers()

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the base class's name
        pass

    def _send(self, status: int, body: bytes, headers: dict[str, str]) -> None:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _json(self, status: int, payload: object, **headers: str) -> None:
        self._send(status, json.dumps(payload).encode(), {"Content-Type": "application/json", **headers})

    def _session(self) -> str | None:
        from http.cookies import SimpleCookie

        cookie = SimpleCookie(self.headers.get("Cookie") or "")
        return cookie[SESSION_COOKIE].value if SESSION_COOKIE in cookie else None

    def _whoami(self) -> None:
        """The signed-in user as the functions see them: the token verified, the role from access.yaml."""
        from shared.platform.errors import CxError
        from shared.platform.identity import Authenticator
        from shared.safety.access import AccessPolicy
        from shared.settings import load_settings

        token = self._session()
        if not token:
            self._json(401, {"error": {"code": "unauthenticated", "message": "sign-in required", "request_id": ""}})
            return
        settings = load_settings()
        try:
            principal = Authenticator(
                settings, AccessPolicy.load(settings.config_dir / "safety/access.yaml")
            ).authenticate({IAP_HEADER: token})
        except CxError as exc:
            self._json(exc.status, {"error": {"code": exc.code, "message": exc.message, "request_id": ""}})
            return
        self._json(200, {"agent_id": principal.agent_id, "role": principal.role, "source": principal.identity.source})

    def do_GET(self) -> None:  # noqa: N802
        path = self.path.split("?")[0]
        if path == "/queues.json":
            self._send(200, queue_catalogue_json(), {"Content-Type": "application/json"})
            return
        if path == "/auth/users":
            self._json(200, {"users": [{"id": u, "label": v["label"]} for u, v in DEMO_USERS.items()]})
            return
        if path == "/auth/whoami":
            self._whoami()
            return
        super().do_GET()

    def _login(self) -> None:
        data = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        try:
            user = json.loads(data or b"{}").get("user")
        except (json.JSONDecodeError, AttributeError):
            user = None
        if self.issuer is None or user not in DEMO_USERS:
            self._json(
                400,
                {
                    "error": {
                        "code": "invalid_request",
                        "message": "unknown demo user",
                        "request_id": "",
                        "details": [{"field": "user", "problem": f"one of {sorted(DEMO_USERS)}"}],
                    }
                },
            )
            return
        cookie = f"{SESSION_COOKIE}={demo_token(self.issuer, user)}; Path=/; HttpOnly; SameSite=Strict; Max-Age=3600"
        self._json(200, {"user": user}, **{"Set-Cookie": cookie})

    def do_POST(self) -> None:  # noqa: N802
        if self.path.split("?")[0] == "/auth/login":
            self._login()
            return
        if self.path.split("?")[0] == "/auth/logout":
            self._json(200, {}, **{"Set-Cookie": f"{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0"})
            return
        name = self.path.split("?")[0].removeprefix("/api/").strip("/")
        if not self.path.startswith("/api/") or name not in self.urls:
            self._send(
                404,
                json.dumps(
                    {"error": {"code": "not_found", "message": f"no function {name!r}", "request_id": ""}}
                ).encode(),
                {"Content-Type": "application/json"},
            )
            return
        data = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        headers = {h: v for h in PROXY_HEADERS if (v := self.headers.get(h)) is not None}
        token = self._session()  # the front door adds the signed identity; a browser cannot set it
        if token:
            headers[IAP_HEADER] = token
        req = urllib.request.Request(self.urls[name], data=data, method="POST", headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=60) as resp:
                status, body, got = resp.status, resp.read(), resp.headers
        except urllib.error.HTTPError as exc:
            status, body, got = exc.code, exc.read(), exc.headers
        except OSError as exc:
            err = {
                "error": {
                    "code": "bad_gateway",
                    "message": f"{name} unreachable: {exc}",
                    "request_id": self.headers.get("X-Request-Id", ""),
                }
            }
            self._send(502, json.dumps(err).encode(), {"Content-Type": "application/json"})
            return
        out = {h: v for h in ("Content-Type", "X-Request-Id") if (v := got.get(h)) is not None}
        self._send(status, body, out)


@contextmanager
def desktop_server(urls: dict[str, str], port: int = 0, issuer: LocalIssuer | None = None) -> Iterator[str]:
    """Serve the agent desktop, its sign-in and its function proxy on 127.0.0.1; yield the page URL.

    ``issuer`` signs the demo sign-ins; the functions must trust its key set (``CX_LOCAL_ISSUER_JWKS``).
    """
    handler = type("DesktopHandler", (_DesktopHandler,), {"urls": {n: u for n, u in urls.items()}, "issuer": issuer})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/"
    finally:
        server.shutdown()
        server.server_close()


def export_web(out: Path, functions_base: str | None = None) -> Path:
    """The desktop as a static site (for a bucket or CDN): the files plus the queue catalogue.

    ``functions_base`` (e.g. ``https://europe-west1-PROJECT.cloudfunctions.net/``) goes into
    ``config.json``; allow the site's origin on the functions with ``CX_CORS_ORIGINS``.
    """
    shutil.copytree(WEB_ROOT, out, dirs_exist_ok=True)
    (out / "queues.json").write_bytes(queue_catalogue_json())
    if functions_base:
        config = json.loads((out / "config.json").read_text("utf-8"))
        config["functionsBase"] = functions_base
        (out / "config.json").write_text(json.dumps(config, indent=2) + "\n", "utf-8")
    return out


def _wait_http(url: str, log: Path, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=1).close()
            return
        except urllib.error.HTTPError:
            return  # the server answered (405 for GET): it is up
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not start; see {log}")


def call(url: str, body: object, headers: dict[str, str] | None = None) -> tuple[int, dict]:
    data = json.dumps(body).encode()
    req = urllib.request.Request(
        url, data=data, method="POST", headers={"Content-Type": "application/json", **(headers or {})}
    )
    try:
        with urllib.request.urlopen(req, timeout=90) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def _show(title: str, status: int, payload: dict) -> None:
    print(f"\n=== {title}: HTTP {status}")
    print(json.dumps(payload, indent=2, ensure_ascii=False))


class Caller:
    """Demo calls as a signed-in user (the token the front door adds), noting the request ids that read a
    customer so the demo can check each has its audit row in the warehouse."""

    def __init__(self, issuer: LocalIssuer, user: str = "agent-demo") -> None:
        self.issuer, self.user = issuer, user
        self.audited: list[str] = []

    def __call__(
        self,
        url: str,
        body: object,
        *,
        user: str | None = None,
        audited: bool = True,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, dict]:
        import uuid

        request_id = f"demo-{uuid.uuid4().hex}"
        if audited:
            self.audited.append(request_id)
        auth = {IAP_HEADER: demo_token(self.issuer, user or self.user), "X-Request-Id": request_id}
        return call(url, body, {**auth, **(headers or {})})


def demo(urls: dict[str, str], issuer: LocalIssuer) -> int:
    ask = Caller(issuer)  # every demo call is a signed-in agent's
    url = urls["context_summary"]
    status, body = ask(url, {"customer_id": "C-1004", "ticket_id": "T-1004-01"})
    _show("context_summary for C-1004 (600 interactions, German customer)", status, body)
    ok = status == 200 and body["engine"] == "offline"
    status, body2 = ask(url, {"customer_id": "C-1002", "language": "de", "channel": "chat"})
    _show("context_summary for C-1002 in German (chat policy)", status, body2)
    ok &= status == 200
    status, err = ask(url, {"customer_id": "C-9999"})
    _show("unknown customer", status, err)
    ok &= status == 404
    status, err = ask(url, {"customer_id": "", "langauge": "de"}, audited=False)
    _show("malformed request", status, err)
    ok &= status == 400
    status, err = ask(url, {"customer_id": "C-1002"}, user="agent-uk")
    _show("an agent of the UK team asks for a German customer: answered like an unknown one", status, err)
    ok &= status == 404 and err["error"]["message"] == "customer not found"
    status, err = ask(url, {"customer_id": "C-1004"}, headers={"X-Agent-Role": "supervisor"}, audited=False)
    _show("a signed-in agent adds X-Agent-Role: supervisor (forged identity header)", status, err)
    ok &= status == 403
    forged = call(url, {"customer_id": "C-1004"}, {"X-Agent-Id": "lead-demo", "X-Agent-Role": "supervisor"})
    _show("identity headers without a signed token", *forged)
    ok &= forged[0] == 401
    nba = urls["next_best_action"]
    chat = [
        {"speaker": "agent", "text": "Hallo Jonas, wie kann ich helfen?"},
        {"speaker": "customer", "text": "Schon wieder kein Internet. Das ist unzumutbar, ich kündige!"},
    ]
    status, body3 = ask(nba, {"customer_id": "C-1002", "channel": "chat", "transcript": chat})
    shown = {
        k: body3.get(k)
        for k in (
            "customer_goal",
            "sentiment",
            "intent",
            "primary",
            "fallback",
            "reasons",
            "phrasing",
            "suppressed",
            "model_choice_overridden",
            "engine",
        )
    }
    _show("next_best_action for C-1002 in a live chat (angry, churn risk 0.72)", status, shown)
    ok &= status == 200 and body3["primary"]["type"] == "retention"
    message = (
        "Sie haben mir den Oktober doppelt abgebucht! Das ist unzumutbar, ich will mein Geld zurück, "
        "sonst gehe ich zum Anwalt."
    )
    status, body4 = ask(urls["reply_draft"], {"customer_id": "C-1004", "message": message, "channel": "email"})
    shown = {
        k: body4.get(k)
        for k in (
            "intent_summary",
            "language",
            "language_detected",
            "intent",
            "sentiment",
            "reply",
            "next_best_actions",
            "requires_human_review",
            "review_reasons",
            "questions_for_agent",
            "personalization_used",
            "engine",
        )
    }
    _show("reply_draft for an angry German email from C-1004 (legal threat, refund demand)", status, shown)
    ok &= status == 200 and body4["requires_human_review"] and body4["language"] == "de"
    call_turns = [
        {"speaker": "customer", "text": "Sie haben mir den Oktober doppelt abgebucht."},
        {"speaker": "agent", "text": "Unser Abrechnungsteam erstattet den Betrag innerhalb von 5 Werktagen."},
        {"speaker": "agent", "text": "Bitte schicken Sie uns bis Freitag einen Kontoauszug als Nachweis."},
        {"speaker": "agent", "text": "Ich rufe Sie nächste Woche an, um zu bestätigen, dass alles erledigt ist."},
        {"speaker": "agent", "text": "Kann ich sonst noch etwas für Sie tun?"},
    ]
    ticket = {"customer_id": "C-1004", "ticket_id": "T-1004-01"}
    status, plan = ask(
        urls["next_steps"],
        {**ticket, "channel": "phone", "transcript": call_turns, "conversation_end_time": "2026-11-19T15:00:00+01:00"},
    )
    _show("next_steps at the end of the call (agent pressed 'next steps')", status, plan)
    ok &= status == 200 and len(plan["actions"]) == 3
    final = [{"owner": a["owner"], "description": a["description"], "due_by": a["due_by"]} for a in plan["actions"]]
    final[1]["due_by"] = "2026-11-23"  # the agent gives the customer until Monday
    kb_used = [k["kb_id"] for k in plan["kb_suggestions"][:1]]
    status, confirmed = ask(
        urls["confirm_next_steps"],
        {
            **ticket,
            "suggestion_id": plan["suggestion_id"],
            "actions": final,
            "resolver_group": plan["resolver_group"],
            "kb_used": kb_used,
        },
    )
    _show("confirm_next_steps (agent moved one due date)", status, confirmed)
    ok &= status == 200 and confirmed["diff"]["due_dates_moved"] == 1
    status, closing = ask(urls["closing_message"], {**ticket, "channel": "email", "actions": final})
    print(f"\n=== closing_message: HTTP {status}\n{closing.get('message')}")
    ok &= status == 200
    status, fb = ask(
        urls["feedback"],
        {
            "event_id": f"demo-{plan['suggestion_id']}",
            "capability": "reply_draft",
            "suggestion_id": body4["suggestion_id"],
            "final_text": _edit(body4["reply"]),
        },
    )
    _show("feedback: the agent sent the reply with a small edit", status, fb)
    ok &= status == 200 and fb["rating"] == "lightly_edited"
    ok &= _close_tickets(urls["ticket_closed"])
    ok &= _promises(urls, ask)
    events = _pull_events(8)
    from collections import Counter

    print(
        f"\n=== events on the local subscription: {len(events)}, by type: "
        f"{dict(Counter(e['event_type'] for e in events))}"
    )
    for event in events[:3]:
        print(json.dumps(event, ensure_ascii=False)[:300] + " …")
    ok &= len(events) >= 8
    print("\n=== KPI report from the local warehouse (events loaded from Pub/Sub into DuckDB)")
    ok &= _report(expected_tickets=61)  # the 60 demo closes and the promise's own ticket
    ok &= _audit_check(ask.audited)
    print("\ndemo " + ("OK" if ok else "FAILED"))
    return 0 if ok else 1


def _edit(reply: str) -> str:
    """What an agent typically does: a friendlier greeting, one sentence dropped."""
    paragraphs = reply.replace("Guten Tag", "Hallo").split("\n\n")
    return "\n\n".join(p for i, p in enumerate(paragraphs) if i != len(paragraphs) - 2)


def _close_tickets(function_url: str) -> bool:
    """The ticketing system closes tickets (Pub/Sub); a push bridge delivers them to ticket_closed."""
    import random
    from datetime import UTC, datetime, timedelta

    from google.cloud import pubsub_v1

    from shared.settings import load_settings

    settings = load_settings()
    rng = random.Random(11)
    publisher = pubsub_v1.PublisherClient()
    topic = publisher.topic_path(PROJECT, settings.ticket_closed_topic)
    now = datetime(2026, 11, 20, 12, tzinfo=UTC)
    journeys = {"billing": "billing_dispute", "outage": "outage_recovery", "delivery": "delivery_issue"}
    payloads = []
    for n in range(60):
        category = rng.choice(list(journeys))
        opened = now - timedelta(days=rng.uniform(1, 28))
        ai = n % 2 == 0
        handoff = rng.random() < (0.2 if ai else 0.4)
        closed = opened + timedelta(hours=rng.uniform(0.2, 30))
        payloads.append(
            {
                "ticket_id": f"T-DEMO-{n:03d}",
                "customer_id": f"C-{1001 + n % 20}",
                "channel": rng.choice(["chat", "email", "phone"]),
                "journey": journeys[category],
                "category": category,
                "subject": f"Demo {category} case",
                "queue_history": ["Customer Service"] + (["Billing and Payments"] if handoff else []),
                "opened_at": opened.isoformat(),
                "closed_at": closed.isoformat(),
                "handle_time_s": rng.uniform(240, 600) * (0.75 if ai else 1.0),
                "after_contact_work_s": rng.uniform(30, 180),
                "resolution_code": "resolved",
                "csat": rng.choice([3, 4, 5] if ai else [2, 3, 4, 5]),
                "ai_assisted": ai,
            }
        )
    for p in payloads + payloads[:10]:  # ten redelivered
        publisher.publish(topic, json.dumps(p).encode()).result(timeout=10)
    publisher.publish(topic, b'{"ticket_id": "broken"}').result(timeout=10)
    delivered, outcomes = _push_bridge(function_url, f"{settings.ticket_closed_topic}-local")
    print(
        f"\n=== ticket_closed: {len(payloads)} tickets (+10 redelivered, +1 invalid) pushed to the function: "
        f"{delivered} deliveries, HTTP {dict(outcomes)}"
    )
    return outcomes.get(200, 0) == len(payloads) + 11


PROMISE_CALL = [
    {"speaker": "customer", "text": "I was charged twice for my phone bill last month."},
    {"speaker": "agent", "text": "Our billing team will refund the duplicate charge by tomorrow."},
    {"speaker": "agent", "text": "I will email you the confirmation of the refund today."},
]


def _promises(urls: dict[str, str], ask: Caller) -> bool:
    """Promises kept (docs/commitments.md): a back-office promise due on the past business day is swept
    overdue, leads the next summary and reply, and a ticket event closes it."""
    from datetime import UTC, datetime, timedelta
    from zoneinfo import ZoneInfo

    from google.cloud import pubsub_v1

    from shared.language.duedates import business_calendar
    from shared.settings import load_settings

    settings = load_settings()
    today = datetime.now(ZoneInfo("Europe/London")).date()  # C-1009 lives in Leeds
    cal = business_calendar("GB", None, today.year - 1)
    past = today - timedelta(days=1)
    while not cal.is_business_day(past):
        past -= timedelta(days=1)
    ticket = {"customer_id": "C-1009", "ticket_id": "T-1009-01"}
    london = ZoneInfo("Europe/London")
    end = datetime.combine(past - timedelta(days=3), datetime.min.time(), london) + timedelta(hours=15)
    status, plan = ask(
        urls["next_steps"],
        {**ticket, "channel": "phone", "transcript": PROMISE_CALL, "conversation_end_time": end.isoformat()},
    )
    ok = status == 200
    final = [{"owner": a["owner"], "description": a["description"], "due_by": a["due_by"]} for a in plan["actions"]]
    for a in final:  # the back office's promise fell due on the past business day; the agent's is due later
        a["due_by"] = str(past) if a["owner"] == "backoffice" else str(today + timedelta(days=2))
    status, _ = ask(
        urls["confirm_next_steps"],
        {**ticket, "suggestion_id": plan["suggestion_id"], "actions": final, "resolver_group": plan["resolver_group"]},
    )
    print(f"\n=== promises: C-1009 confirmed {len(final)} actions, the back office's due {past} (past business day)")
    ok &= status == 200
    subscriber = pubsub_v1.SubscriberClient()
    watch = subscriber.subscription_path(PROJECT, "cx-events-demo-promises")
    subscriber.create_subscription(name=watch, topic=f"projects/{PROJECT}/topics/{settings.events_topic}")
    publisher = pubsub_v1.PublisherClient()
    sweep_topic = publisher.topic_path(PROJECT, settings.commitment_sweep_topic)
    for _ in range(2):  # Cloud Scheduler delivers at least once: the second run finds nothing to do
        publisher.publish(sweep_topic, b'{"trigger": "schedule"}').result(timeout=10)
    delivered, outcomes = _push_bridge(urls["commitment_sweep"], f"{settings.commitment_sweep_topic}-local")
    events = []
    for _ in range(5):
        msgs = subscriber.pull(subscription=watch, max_messages=200, timeout=5).received_messages
        if msgs:
            subscriber.acknowledge(subscription=watch, ack_ids=[m.ack_id for m in msgs])
        events += [json.loads(m.message.data) for m in msgs]
        if any(e["event_type"] == "commitment.overdue" and e["ticket_id"] == "T-1009-01" for e in events):
            break
    overdue = [e for e in events if e["event_type"] == "commitment.overdue"]
    print(
        f"=== commitment_sweep: {delivered} scheduler messages pushed, HTTP {dict(outcomes)}; "
        f"commitment.overdue emitted: {len(overdue)} (C-1009's: "
        f"{sum(e['ticket_id'] == 'T-1009-01' for e in overdue)})"
    )
    ok &= outcomes.get(200, 0) == 2 and sum(e["ticket_id"] == "T-1009-01" for e in overdue) == 1
    status, summary = ask(urls["context_summary"], {"customer_id": "C-1009"})
    _show(
        "context_summary for C-1009 opens with what we owe",
        status,
        {"bullets": summary.get("bullets"), "commitments": summary.get("commitments")},
    )
    owed = summary.get("commitments") or [{}]
    ok &= status == 200 and owed[0].get("status") == "overdue" and summary["bullets"][0].startswith("We owe")
    status, reply = ask(
        urls["reply_draft"],
        {
            "customer_id": "C-1009",
            "channel": "email",
            "message": "Hello, where is my refund? You said it would be done.",
        },
    )
    print(f"\n=== reply_draft for C-1009 (HTTP {status}): the overdue promise comes first\n{reply.get('reply')}")
    ok &= status == 200 and "not yet kept our promise" in reply["reply"].split("\n\n")[1]
    agent = next((c for c in owed if c.get("owner") == "agent"), None)
    if agent:  # one click in the desktop: the agent's own promise is done, on time
        status, done = ask(urls["commitment_update"], {"commitment_id": agent["commitment_id"], "change": "done"})
        ok &= status == 200 and done["commitment"]["status"] == "done"
    close = {
        **ticket,
        "channel": "phone",
        "journey": "billing_dispute",
        "category": "billing",
        "queue_history": ["Customer Service", "Billing and Payments"],
        "opened_at": (end - timedelta(minutes=20)).isoformat(),
        "closed_at": datetime.now(UTC).isoformat(),
        "handle_time_s": 380,
        "after_contact_work_s": 90,
        "resolution_code": "refund_issued",
        "csat": 3,
        "ai_assisted": True,
    }
    topic = publisher.topic_path(PROJECT, settings.ticket_closed_topic)
    publisher.publish(topic, json.dumps(close).encode()).result(timeout=10)
    _push_bridge(urls["ticket_closed"], f"{settings.ticket_closed_topic}-local")
    status, after = ask(urls["context_summary"], {"customer_id": "C-1009"})
    print(
        f"=== ticket T-1009-01 closed by the ticketing system: open promises to C-1009 now "
        f"{len(after.get('commitments', []))}"
    )
    ok &= status == 200 and after.get("commitments") == []
    subscriber.delete_subscription(subscription=watch)
    subscriber.close()
    return ok


MAX_BACKOFF_S = 600  # infra/terraform: retry_policy.maximum_backoff of the push subscriptions


@dataclass(frozen=True)
class Route:
    """One push subscription of infra/terraform, played locally by a pull subscription on the emulator."""

    function: str
    subscription: str
    dead_letter_topic: str | None = None  # None: retried until the message expires (as the sweep's is)


def default_routes() -> list[Route]:
    """ticket_closed, snapshot_sync and commitment_sweep from their topics' -local subscriptions (as pubsub.tf
    and sync.tf push them), with the dead-letter topics Terraform gives the first two."""
    from shared.settings import load_settings

    s = load_settings()
    local = s.local_topics
    return [
        Route("ticket_closed", local[s.ticket_closed_topic][0], s.ticket_closed_dlq_topic),
        Route("snapshot_sync", local[s.snapshot_sync_topic][0], s.snapshot_sync_dlq_topic),
        Route("commitment_sweep", local[s.commitment_sweep_topic][0]),
    ]


class PushBridge:
    """What a push subscription does in the cloud: pull, POST Pub/Sub's push body (data, attributes, ids) to the
    function as the CloudEvent Eventarc would, acknowledge only a 2xx. A failed delivery is redelivered after
    ``retry_delay_s``; after ``max_attempts`` it is parked on the route's dead-letter topic with the
    ``CloudPubSubDeadLetter*`` attributes Pub/Sub adds, and acknowledged (without one, it is retried every
    :data:`MAX_BACKOFF_S`, the subscriptions' maximum backoff)."""

    def __init__(
        self,
        urls: dict[str, str],
        routes: list[Route],
        *,
        project: str = PROJECT,
        max_attempts: int = 5,
        retry_delay_s: int = 10,
        wait_s: float = 2.0,
    ) -> None:
        from google.cloud import pubsub_v1

        self.urls, self.routes, self.project = urls, routes, project
        self.max_attempts, self.retry_delay_s, self.wait_s = max_attempts, retry_delay_s, wait_s
        self._subscriber = pubsub_v1.SubscriberClient()
        self._publisher = pubsub_v1.PublisherClient()
        self._attempts: Counter[str] = Counter()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _post(self, route: Route, path: str, message: Any) -> int:
        import base64
        import uuid

        envelope = {
            "message": {
                "data": base64.b64encode(message.data).decode(),
                "messageId": message.message_id,
                "publishTime": message.publish_time.rfc3339(),
                "attributes": dict(message.attributes),
            },
            "subscription": path,
        }
        headers = {
            "Content-Type": "application/json",
            "ce-specversion": "1.0",
            "ce-id": uuid.uuid4().hex,
            "ce-type": "google.cloud.pubsub.topic.v1.messagePublished",
            "ce-source": f"//pubsub/{path}",
        }
        url = self.urls[route.function]
        req = urllib.request.Request(url, data=json.dumps(envelope).encode(), method="POST", headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=60) as resp:
                return int(resp.status)
        except urllib.error.HTTPError as exc:
            return exc.code
        except OSError:
            return 0  # the function is not reachable: a failed delivery like any other

    def _failed(self, route: Route, path: str, received: Any) -> bool:
        """True if the message was parked (and acknowledged); else it is released for redelivery."""
        message = received.message
        self._attempts[message.message_id] += 1
        attempts = self._attempts[message.message_id]
        if attempts >= self.max_attempts and route.dead_letter_topic:
            bookkeeping = {
                "CloudPubSubDeadLetterSourceDeliveryCount": str(attempts),
                "CloudPubSubDeadLetterSourceSubscription": route.subscription,
                "CloudPubSubDeadLetterSourceSubscriptionProject": self.project,
            }
            topic = self._publisher.topic_path(self.project, route.dead_letter_topic)
            self._publisher.publish(topic, message.data, **dict(message.attributes), **bookkeeping).result(timeout=30)
            self._subscriber.acknowledge(subscription=path, ack_ids=[received.ack_id])
            del self._attempts[message.message_id]
            return True
        delay = MAX_BACKOFF_S if attempts >= self.max_attempts else self.retry_delay_s
        self._subscriber.modify_ack_deadline(subscription=path, ack_ids=[received.ack_id], ack_deadline_seconds=delay)
        return False

    def run_once(self) -> Counter[int | str]:
        """One pull per route, each message delivered once; outcomes by HTTP status (0: unreachable), plus
        ``parked`` for messages moved to a dead-letter topic."""
        from google.api_core.exceptions import DeadlineExceeded

        outcomes: Counter[int | str] = Counter()
        for route in self.routes:
            path = self._subscriber.subscription_path(self.project, route.subscription)
            try:
                received = self._subscriber.pull(subscription=path, max_messages=50, timeout=self.wait_s)
            except DeadlineExceeded:
                continue
            for m in received.received_messages:
                status = self._post(route, path, m.message)
                outcomes[status] += 1
                if 200 <= status < 300:
                    self._subscriber.acknowledge(subscription=path, ack_ids=[m.ack_id])
                    self._attempts.pop(m.message.message_id, None)
                elif self._failed(route, path, m):
                    outcomes["parked"] += 1
        return outcomes

    def drain(self) -> Counter[int | str]:
        """Deliver until a pass finds nothing (with ``retry_delay_s=0`` failures are retried, then parked)."""
        total: Counter[int | str] = Counter()
        while True:
            outcomes = self.run_once()
            if not outcomes:
                return total
            total += outcomes

    def start(self) -> PushBridge:
        """Deliver in the background until :meth:`stop` (the `up` command)."""

        def loop() -> None:
            while not self._stop.is_set():
                try:
                    self.run_once()
                except Exception as exc:  # noqa: BLE001 - the emulator went away or a route is missing: keep serving
                    print(f"push bridge: {exc!r}", file=sys.stderr)
                    self._stop.wait(self.wait_s)

        self._thread = threading.Thread(target=loop, name="push-bridge", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
        self._subscriber.close()


def _push_bridge(url: str, subscription: str) -> tuple[int, Counter[int | str]]:
    """Deliver what waits on one subscription now (the demo's explicit steps): deliveries and their statuses;
    a failing message is retried a few times, then left for later."""
    bridge = PushBridge({"fn": url}, [Route("fn", subscription)], max_attempts=5, retry_delay_s=0, wait_s=5)
    try:
        outcomes = bridge.drain()
    finally:
        bridge.stop()
    return sum(v for k, v in outcomes.items() if k != "parked"), outcomes


def _report(expected_tickets: int = 60) -> bool:
    from datetime import date

    from scripts import warehouse

    db = ROOT / ".local" / "warehouse.duckdb"
    db.unlink(missing_ok=True)
    warehouse.load(db)
    out = ROOT / ".local" / "kpi-report.html"
    warehouse.main(["report", "--db", str(db), "--from", "2026-10-01", "--to", "2026-12-31", "--html", str(out)])
    con = warehouse.connect(db)
    rows = warehouse.kpi_table(con, date(2026, 10, 1), date(2026, 12, 31))
    promises = warehouse.promises_table(con, date(2026, 10, 1), date(2026, 12, 31))
    return sum(r["tickets"] for r in rows) == expected_tickets and any(r["queue_code"] == "Q-BILL" for r in promises)


def _audit_check(request_ids: list[str]) -> bool:
    """Every customer read the demo made has its audit row in the local warehouse (cx_analytics.audit_events)."""
    from scripts import warehouse

    con = warehouse.connect(ROOT / ".local" / "warehouse.duckdb")
    rows = con.execute(
        "SELECT request_id, capability, decision, reason, fields FROM cx_analytics.audit_events "
        "WHERE request_id LIKE 'demo-%'"
    ).fetchall()
    found = {r[0] for r in rows}
    missing = [r for r in request_ids if r not in found]
    from collections import Counter

    print(
        f"\n=== audit: {len(request_ids)} customer reads by the demo, {len(found & set(request_ids))} with an "
        f"audit.customer_access row in the warehouse; by capability and decision: "
        f"{dict(Counter(f'{r[1]}:{r[2]}' + (f'({r[3]})' if r[3] else '') for r in rows))}"
    )
    if missing:
        print(f"    MISSING audit rows for {missing}")
    return not missing and bool(request_ids)


def _pull_events(expected: int) -> list[dict]:
    from google.cloud import pubsub_v1

    from shared.settings import load_settings

    settings = load_settings()
    sub_name = settings.local_topics[settings.events_topic][0]
    subscriber = pubsub_v1.SubscriberClient()
    path = subscriber.subscription_path(PROJECT, sub_name)
    events: list[dict] = []
    deadline = time.monotonic() + 10
    with subscriber:
        while time.monotonic() < deadline and len(events) < expected:
            resp = subscriber.pull(subscription=path, max_messages=50, timeout=5)
            if resp.received_messages:
                subscriber.acknowledge(subscription=path, ack_ids=[m.ack_id for m in resp.received_messages])
            events += [json.loads(m.message.data) for m in resp.received_messages]
    return events


def _demo_router() -> Path:
    """Train the demo's router on the project's own 48 labelled tickets (the way a company trains on its
    export), so next steps route with router_version and candidates instead of the intent fallback."""
    out = ROOT / ".local" / "router-demo"
    data = ROOT / "tests" / "fixtures" / "routing_tickets.csv"
    subprocess.run(
        [sys.executable, "-m", "scripts.train_router", "--data", str(data), "--out", str(out)],
        cwd=ROOT,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    print(f"router trained on {data.name} into {out.relative_to(ROOT)}")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["up", "demo", "export-web"])
    parser.add_argument("--port", type=int, default=8081, help="first function port (up)")
    parser.add_argument("--web-port", type=int, default=8080, help="agent desktop page and /api proxy (up)")
    parser.add_argument("--serve", action="store_true", help="demo: keep the stack and the desktop up afterwards")
    parser.add_argument(
        "--out", type=Path, default=ROOT / ".local" / "agent-desktop", help="directory for the static site (export-web)"
    )
    parser.add_argument("--functions-base", help="export-web: base URL of the deployed functions for config.json")
    args = parser.parse_args(argv)
    log_dir = ROOT / ".local" / "logs"
    if args.command == "export-web":
        print(f"static agent desktop written to {export_web(args.out, args.functions_base)}")
        return 0
    # SIGTERM (systemd, CI, `kill`) stops the stack as cleanly as Ctrl-C does.
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    issuer = local_issuer()  # before the functions start: they read its key set from CX_LOCAL_ISSUER_JWKS
    if args.command == "demo" and "CX_ROUTER_ARTEFACT" not in os.environ:
        os.environ["CX_ROUTER_ARTEFACT"] = str(_demo_router())
    if args.command == "demo":
        with local_stack(log_dir) as urls, desktop_server(urls, args.web_port if args.serve else 0, issuer) as page:
            hint = "" if args.serve else "  (up while the demo runs; add --serve to keep it)"
            print(f"agent desktop: {page}{hint}")
            code = demo(urls, issuer)
            code = code or (0 if _check_desktop(page) else 1)
            if args.serve:
                print(f"\nagent desktop still served at {page}; Ctrl-C stops everything")
                _wait_for_interrupt()
            return code
    with local_stack(log_dir, base_port=args.port) as urls, desktop_server(urls, args.web_port, issuer) as page:
        bridge = PushBridge(urls, default_routes()).start()
        for name, url in urls.items():
            print(f"{name:<20} POST {url}")
        for route in bridge.routes:
            parked = f", then {route.dead_letter_topic}" if route.dead_letter_topic else ""
            print(f"{route.function:<20} pushed from subscription {route.subscription}{parked}")
        print(
            f"agent desktop        {page}  (functions proxied under {page}api/<function>; sign in as one of "
            f"{', '.join(DEMO_USERS)})"
        )
        print(f"logs in {log_dir}; Ctrl-C stops everything")
        _wait_for_interrupt()
        bridge.stop()
    return 0


def _check_desktop(page: str) -> bool:
    """The page, its catalogue and one call through the /api proxy, as the browser makes them."""
    with urllib.request.urlopen(page, timeout=10) as resp:
        html_ok = resp.status == 200 and b"cx-context-panel" in resp.read()
    with urllib.request.urlopen(page + "queues.json", timeout=10) as resp:
        queues = len(json.loads(resp.read())["groups"])
    login = urllib.request.Request(
        page + "auth/login", data=b'{"user": "agent-demo"}', method="POST", headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(login, timeout=10) as resp:
        cookie = resp.headers["Set-Cookie"].split(";")[0]
    anonymous, _ = call(page + "api/context_summary", {"customer_id": "C-1002", "channel": "chat"})
    status, body = call(page + "api/context_summary", {"customer_id": "C-1002", "channel": "chat"}, {"Cookie": cookie})
    ok = html_ok and queues > 0 and anonymous == 401 and status == 200 and bool(body.get("bullets"))
    print(
        f"\n=== agent desktop {page}: page {'OK' if html_ok else 'FAILED'}, {queues} queues in the catalogue, "
        f"context_summary through the /api proxy: HTTP {anonymous} before sign-in, {status} after"
    )
    return ok


def _wait_for_interrupt() -> None:
    try:
        signal.pause()
    except KeyboardInterrupt:
        print("\nstopping")


if __name__ == "__main__":
    sys.exit(main())
