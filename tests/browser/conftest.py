"""The agent desktop in a real headless browser against the running local stack.

Session fixtures: the emulators (tests/conftest.py), demo customers seeded into a Firestore
database of their own (feedback the page records cannot shift other tests' NBA counters),
every HTTP function in its own functions-framework process (scripts.devstack), and the
page with its /api proxy. Chromium is Debian's (/usr/bin/chromium, or CX_CHROMIUM); the
tests skip with the reason when it is missing.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ISSUER

CHROMIUM = os.environ.get("CX_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DATABASE = "agent-desktop-tests"
HTTP_FUNCTIONS = [
    "context_summary",
    "next_best_action",
    "reply_draft",
    "next_steps",
    "confirm_next_steps",
    "closing_message",
    "feedback",
    "commitment_update",
]


def _missing() -> str | None:
    if not Path(CHROMIUM).exists() and not shutil.which(CHROMIUM):
        return f"{CHROMIUM} not found: install Debian's chromium (scripts/test.sh does it as root) or set CX_CHROMIUM"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright Python package is not installed (pip install -r requirements-dev.txt)"
    return None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    reason = _missing()
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.browser)
            if reason:
                item.add_marker(pytest.mark.skip(reason=reason))


@pytest.fixture(scope="session")
def desktop(emulators: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """Seeded database, function servers and the desktop server; yields the page URL and function URLs."""
    from scripts.devstack import desktop_server, function_servers
    from scripts.seed import seed_all
    from shared.runtime import Runtime
    from shared.settings import load_settings

    rt = Runtime(load_settings(model_backend="offline", firestore_database=DATABASE))
    seed_all(rt, offers=rt.offers, kb=rt.kb, embedder=rt.embedder)
    # CX_PRELOAD as deployed: each server loads its models before it listens, so a panel's first call is not a
    # cold start that outlasts the page's waits on a busy machine.
    env = {
        **os.environ,
        "CX_MODEL_BACKEND": "offline",
        "CX_FIRESTORE_DATABASE": DATABASE,
        "CX_ENVIRONMENT": "local",
        "CX_PRELOAD": "true",
    }
    env.pop("CX_PROJECT", None)
    env.pop("GOOGLE_CLOUD_PROJECT", None)
    log_dir = tmp_path_factory.mktemp("desktop-logs")
    # The functions trust the tests' local issuer (tests/conftest.py); the desktop server signs sign-ins with it.
    with (
        function_servers(log_dir, names=HTTP_FUNCTIONS, env=env) as urls,
        desktop_server(urls, issuer=ISSUER) as page_url,
    ):
        yield {"url": page_url, "functions": urls, "logs": log_dir, "runtime": rt, "env": env}


@pytest.fixture(scope="session")
def cors_function(desktop: dict[str, Any]) -> Iterator[str]:
    """context_summary served on its own origin with CX_CORS_ORIGINS naming the desktop's origin."""
    from scripts.devstack import function_servers

    origin = desktop["url"].rstrip("/")
    env = {**desktop["env"], "CX_CORS_ORIGINS": json.dumps([origin])}
    with function_servers(desktop["logs"] / "cors", names=["context_summary"], env=env) as urls:
        yield urls["context_summary"]


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Any, desktop: dict[str, Any]) -> Iterator[Any]:
    """A fresh browser context (own clipboard, storage) on the desktop page, ready to use."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="en-GB")
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=desktop["url"].rstrip("/"))
    context.set_default_timeout(30000)
    pg = context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda exc: errors.append(str(exc)))
    sign_in(context, desktop["url"], "agent-demo")  # the front door's session, as after a Google sign-in
    pg.goto(desktop["url"])
    pg.wait_for_selector("body[data-ready=true]")
    pg.js_errors = errors
    yield pg
    context.close()
    assert not errors, f"uncaught errors in the page: {errors}"


def sign_in(context: Any, url: str, user: str) -> None:
    """Sign a browser context in as a demo user at the local front door (scripts/devstack.py)."""
    resp = context.request.post(url + "auth/login", data={"user": user})
    assert resp.ok, resp.text()


@pytest.fixture
def open_contact(page: Any) -> Any:
    """Pick a customer and one of their sample contacts, as an agent does."""

    def pick(customer: str, contact: str) -> None:
        page.select_option("#customer", customer)
        page.select_option("#contact", contact)
        page.wait_for_selector(f"#transcript:has-text('{customer}')")

    return pick
