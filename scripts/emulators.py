"""Start and stop the official Firestore and Pub/Sub emulators (Google Cloud SDK).

Used by the local stack, the test suite (once per session) and the benchmarks. The
emulators come with the Google Cloud SDK: ``gcloud components install
cloud-firestore-emulator pubsub-emulator beta`` (or the ``google-cloud-cli-*-emulator``
Debian packages); both need Java 17+.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

PROJECT = "cx-copilot-local"


class EmulatorError(RuntimeError):
    pass


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_ok(url: str, proc: subprocess.Popen[bytes], log: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise EmulatorError(f"emulator exited with {proc.returncode}; see {log}:\n{log.read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(url, timeout=1) as resp:
                if resp.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    raise EmulatorError(f"emulator at {url} did not answer within {timeout:.0f}s; see {log}")


@dataclass
class Emulators:
    """Both emulators on free loopback ports; ``env`` holds the variables clients read."""

    log_dir: Path
    project: str = PROJECT
    firestore_port: int = field(default_factory=free_port)
    pubsub_port: int = field(default_factory=free_port)
    services: tuple[str, ...] = ("firestore", "pubsub")
    """Which emulators to run (an outage test starts a Firestore of its own to stop)."""
    _procs: list[subprocess.Popen[bytes]] = field(default_factory=list)

    @property
    def firestore_host(self) -> str:
        return f"127.0.0.1:{self.firestore_port}"

    @property
    def pubsub_host(self) -> str:
        return f"127.0.0.1:{self.pubsub_port}"

    @property
    def env(self) -> dict[str, str]:
        return {
            "FIRESTORE_EMULATOR_HOST": self.firestore_host,
            "PUBSUB_EMULATOR_HOST": self.pubsub_host,
            "CX_PROJECT": "",
            "GOOGLE_CLOUD_PROJECT": "",
            # A JVM emulator warming up on a busy machine can take seconds per write; the service does
            # not. The retry budget (what bounds an outage) stays as configured.
            "CX_FIRESTORE_TIMEOUT_S": os.environ.get("CX_FIRESTORE_TIMEOUT_S", "30"),
        }

    def start(self, timeout: float = 90.0) -> Emulators:
        gcloud = shutil.which("gcloud")
        if not gcloud:
            raise EmulatorError("gcloud not found: install the Google Cloud SDK with its emulators")
        if not shutil.which("java"):
            raise EmulatorError("java not found: the emulators need Java 17+")
        self.log_dir.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, "CLOUDSDK_CORE_DISABLE_PROMPTS": "1"}
        commands = {
            "firestore": [gcloud, "emulators", "firestore", "start", f"--host-port={self.firestore_host}"],
            "pubsub": [
                gcloud,
                "beta",
                "emulators",
                "pubsub",
                "start",
                f"--host-port={self.pubsub_host}",
                f"--project={self.project}",
            ],
        }
        commands = {name: cmd for name, cmd in commands.items() if name in self.services}
        hosts = {"firestore": self.firestore_host, "pubsub": self.pubsub_host}
        try:
            for name, cmd in commands.items():
                log = self.log_dir / f"{name}-emulator.log"
                proc = subprocess.Popen(  # noqa: S603 - fixed argv
                    cmd,
                    stdout=log.open("wb"),
                    stderr=subprocess.STDOUT,
                    env=env,
                    start_new_session=True,
                )
                self._procs.append(proc)
            for name, proc in zip(commands, self._procs, strict=True):
                _wait_ok(f"http://{hosts[name]}/", proc, self.log_dir / f"{name}-emulator.log", timeout)
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        for proc in self._procs:
            if proc.poll() is None:
                try:
                    os.killpg(proc.pid, signal.SIGTERM)
                except ProcessLookupError:
                    continue
        for proc in self._procs:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=5)
        self._procs.clear()

    def reset_firestore(self) -> None:
        """Delete every document (the emulator's own reset endpoint)."""
        url = f"http://{self.firestore_host}/emulator/v1/projects/{self.project}/databases/(default)/documents"
        urllib.request.urlopen(urllib.request.Request(url, method="DELETE"), timeout=10).close()

    def __enter__(self) -> Emulators:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def ensure_topics(project: str, topics: dict[str, list[str]]) -> None:
    """Create topics and their pull subscriptions if missing (emulator or real project)."""
    from google.api_core.exceptions import AlreadyExists
    from google.cloud import pubsub_v1

    publisher = pubsub_v1.PublisherClient()
    subscriber = pubsub_v1.SubscriberClient()
    try:
        for topic, subscriptions in topics.items():
            topic_path = publisher.topic_path(project, topic)
            with contextlib.suppress(AlreadyExists):
                publisher.create_topic(name=topic_path)
            for sub in subscriptions:
                with contextlib.suppress(AlreadyExists):
                    subscriber.create_subscription(name=subscriber.subscription_path(project, sub), topic=topic_path)
    finally:
        subscriber.close()


def prepare(*, seed: bool = True) -> Any:
    """The one stack bootstrap on running emulators: topics, then the demo data; returns the runtime.

    The local stack, every benchmark and evaluation command and the test session use it, so the
    stack they measure is the one the demo shows.
    """
    from scripts.seed import seed_all
    from shared.runtime import Runtime
    from shared.settings import load_settings

    settings = load_settings()
    ensure_topics(settings.gcp_project_or_local, settings.local_topics)
    rt = Runtime(settings)
    if seed:
        seed_all(rt, offers=rt.offers, kb=rt.kb, embedder=rt.embedder)
    return rt


def start_seeded(prefix: str, *, force_offline: bool = False) -> tuple[Emulators, Any]:
    """Emulators on free ports, the topics, and the demo data (20 customers, offers, knowledge base).

    The stack every benchmark and evaluation command runs on; the caller stops the emulators.
    The offline engine is used unless a project is configured (or always, with ``force_offline``).
    """
    project = os.environ.get("CX_PROJECT") or os.environ.get("GOOGLE_CLOUD_PROJECT")
    emu = Emulators(Path(tempfile.mkdtemp(prefix=prefix))).start()
    os.environ.update(emu.env)
    if force_offline:
        os.environ["CX_MODEL_BACKEND"] = "offline"
    elif project:  # Gemini in that project; Firestore and Pub/Sub stay on the emulators (any project id works)
        os.environ["CX_PROJECT"] = project
    else:
        os.environ.setdefault("CX_MODEL_BACKEND", "offline")  # Gemini only when a project is set
    return emu, prepare()


@contextlib.contextmanager
def seeded(prefix: str, *, force_offline: bool = False) -> Iterator[Any]:
    """``start_seeded`` as a context: yields the runtime, stops the emulators after."""
    emu, rt = start_seeded(prefix, force_offline=force_offline)
    try:
        yield rt
    finally:
        emu.stop()
