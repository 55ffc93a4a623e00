"""Shared fixtures: emulators once per session, a fake Vertex endpoint, event sinks."""

from __future__ import annotations

import json
import os
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from shared.settings import ROOT, Settings, load_settings

FIXTURES = Path(__file__).parent / "fixtures"
# Hermetic: a router someone trained locally (.local/router) must not change what tests route; tests that
# need a trained router pass router_artefact explicitly.
os.environ["CX_ROUTER_ARTEFACT"] = ""


# --- identity: the local issuer signs every test caller's token (shared/platform/identity.py) ---------


def _local_issuer() -> Any:
    import tempfile

    from shared.platform.identity import LocalIssuer

    # This module may be imported twice (as pytest's conftest and as tests.conftest): one key for both.
    configured = os.environ.get("CX_LOCAL_ISSUER_JWKS")
    if configured and Path(configured).name == "jwks.json" and (Path(configured).parent / "issuer-key.pem").is_file():
        directory = Path(configured).parent
    else:
        directory = Path(tempfile.mkdtemp(prefix="cx-test-issuer-"))
    issuer = LocalIssuer.load_or_create(directory)  # key and jwks.json side by side, as in .local/issuer
    # read by every Settings the tests and their servers build, and by scripts.devstack.local_issuer()
    os.environ["CX_LOCAL_ISSUER_JWKS"] = str(directory / "jwks.json")
    os.environ.pop("CX_ENVIRONMENT", None)  # local: the only environment the local issuer is trusted in
    return issuer


ISSUER = _local_issuer()
AGENT_GROUPS = {
    "agent": ("cx-demo-agents",),
    "supervisor": ("cx-demo-supervisors",),
    "uk": ("cx-demo-agents-uk",),
    "backoffice": ("cx-demo-backoffice",),
    "privacy": ("cx-demo-privacy",),
}


def agent_token(subject: str = "agent-042", kind: str = "agent", **claims: Any) -> str:
    return ISSUER.sign(
        {"sub": subject, "email": f"{subject}@example.com", "groups": list(AGENT_GROUPS[kind]), **claims}
    )


def agent_headers(subject: str = "agent-042", kind: str = "agent", **claims: Any) -> dict[str, str]:
    """What the front door (IAP, locally the dev stack) adds for a signed-in demo agent."""
    from shared.platform.identity import IAP_HEADER

    return {IAP_HEADER: agent_token(subject, kind, **claims)}


def fixture_json(*parts: str) -> Any:
    return json.loads(FIXTURES.joinpath(*parts).read_text("utf-8"))


# --- emulators -------------------------------------------------------------------


@pytest.fixture(scope="session")
def emulators(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    from scripts.emulators import Emulators, ensure_topics

    if os.environ.get("CX_TEST_REUSE_EMULATORS"):  # FIRESTORE_/PUBSUB_EMULATOR_HOST already set
        emu = None
    else:
        emu = Emulators(tmp_path_factory.mktemp("emulators")).start()
        os.environ.update(emu.env)
    from shared.platform import clients

    clients.reset()
    settings = load_settings(model_backend="offline")
    ensure_topics(settings.gcp_project_or_local, settings.local_topics)
    yield emu
    if emu is not None:
        emu.stop()


@pytest.fixture(scope="session")
def seeded(emulators: Any) -> dict[str, Any]:
    """The 20 demo customers, written once per session (tests that write use new ids)."""
    from scripts.emulators import prepare
    from scripts.seed import SEEDS

    prepare()  # the one stack bootstrap the demo, benchmarks and evaluations use
    return {s.customer_id: s for s in SEEDS}


@pytest.fixture
def settings(emulators: Any) -> Settings:
    return load_settings(model_backend="offline")


@pytest.fixture
def runtime(settings: Settings, seeded: dict[str, Any]) -> Iterator[Any]:
    from shared.runtime import Runtime, set_default_runtime

    rt = Runtime(settings)
    set_default_runtime(rt)
    yield rt
    rt.events.flush()
    set_default_runtime(None)
    for doc in rt.firestore.collection(settings.commitments_collection).stream():  # promises confirmed here
        doc.reference.delete()  # would lead the next test's summaries and replies (docs/commitments.md)


@dataclass
class EventSink:
    """A fresh pull subscription on the events topic, created before the test publishes."""

    path: str
    subscriber: Any

    def collect(
        self, n: int, match: Callable[[dict[str, Any]], bool] = lambda e: True, attempts: int = 20
    ) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        for _ in range(attempts):
            resp = self.subscriber.pull(subscription=self.path, max_messages=100, timeout=5)
            msgs = resp.received_messages
            if msgs:
                self.subscriber.acknowledge(subscription=self.path, ack_ids=[m.ack_id for m in msgs])
            for m in msgs:
                event = json.loads(m.message.data)
                event["_attributes"] = dict(m.message.attributes)
                if match(event):
                    found.append(event)
            if len(found) >= n:
                break
        return found


@pytest.fixture
def event_sink(settings: Settings) -> Iterator[EventSink]:
    from google.cloud import pubsub_v1

    subscriber = pubsub_v1.SubscriberClient()
    project = settings.gcp_project_or_local
    path = subscriber.subscription_path(project, f"test-{uuid.uuid4().hex[:10]}")
    subscriber.create_subscription(name=path, topic=f"projects/{project}/topics/{settings.events_topic}")
    yield EventSink(path, subscriber)
    subscriber.delete_subscription(subscription=path)
    subscriber.close()


# --- fake Vertex AI endpoint ---------------------------------------------------------


@dataclass
class Scripted:
    status: int
    body: dict[str, Any]
    block: threading.Event | None = None


@dataclass
class FakeVertex:
    """A real HTTP server speaking Vertex's generateContent; google-genai talks to it."""

    server: ThreadingHTTPServer
    script: list[Scripted] = field(default_factory=list)
    requests: list[dict[str, Any]] = field(default_factory=list)
    release: threading.Event = field(default_factory=threading.Event)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}"

    def reply(self, status: int, body: dict[str, Any]) -> None:
        self.script.append(Scripted(status, body))

    def reply_json(self, payload: dict[str, Any], **usage: int) -> None:
        body = fixture_json("vertex", "success.json")
        body["candidates"][0]["content"]["parts"][0]["text"] = json.dumps(payload)
        body["usageMetadata"].update(usage)
        self.reply(200, body)

    def hang(self) -> None:
        """The next request gets no answer until the test ends (latency-budget tests)."""
        self.script.append(Scripted(200, {}, block=self.release))


@pytest.fixture
def fake_vertex() -> Iterator[FakeVertex]:
    holder: dict[str, FakeVertex] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            fake = holder["fake"]
            raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            fake.requests.append(
                {"path": self.path, "headers": dict(self.headers), "body": json.loads(raw), "raw": raw.decode("utf-8")}
            )
            step = (
                fake.script.pop(0)
                if fake.script
                else Scripted(500, {"error": {"code": 500, "message": "unscripted", "status": "INTERNAL"}})
            )
            if step.block is not None:
                step.block.wait(30)
                return
            payload = json.dumps(step.body).encode()
            self.send_response(step.status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    fake = FakeVertex(server)
    holder["fake"] = fake
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield fake
    fake.release.set()
    server.shutdown()
    server.server_close()


def vertex_settings(fake: FakeVertex, **overrides: Any) -> Settings:
    values: dict[str, Any] = dict(
        project="test-project",
        region="europe-west1",
        model_backend="vertex",
        vertex_base_url=fake.url,
        model_retry_attempts=3,
        model_retry_initial_delay_s=0.0,
        model_retry_max_delay_s=0.0,
        model_timeout_ms=5000,
        latency_budget_ms=10000,
        config_dir=ROOT / "config",
        prompts_dir=ROOT / "prompts",
    )
    values.update(overrides)
    return load_settings(**values)


def vertex_engine(fake: FakeVertex, **overrides: Any) -> Any:
    from google.oauth2.credentials import Credentials

    from shared.engine.model import ResilientEngine
    from shared.engine.vertex import VertexEngine
    from shared.runtime import offline_engine

    settings = vertex_settings(fake, **overrides)
    primary = VertexEngine(settings, credentials=Credentials("test-token"))
    return ResilientEngine(primary, offline_engine(), latency_budget_ms=settings.latency_budget_ms)
