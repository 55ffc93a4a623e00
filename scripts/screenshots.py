"""Screenshots of each agent-desktop panel, for the README (docs/screenshots/*.png).

    python -m scripts.screenshots                      # starts the local stack itself
    python -m scripts.screenshots --url http://127.0.0.1:8080/   # against `devstack up`

Headless Debian Chromium (/usr/bin/chromium, or CX_CHROMIUM) through Playwright; the offline
engine answers. Each panel is captured as an element screenshot at 1x scale (small files).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from shared.settings import ROOT

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
OUT = ROOT / "docs" / "screenshots"
MAX_BYTES = 300_000


@contextmanager
def desktop_url(url: str | None) -> Iterator[str]:
    """The page of a running stack, or a local stack started (and stopped) here."""
    if url:
        yield url if url.endswith("/") else url + "/"
        return
    from scripts.devstack import desktop_server, local_issuer, local_stack

    os.environ["CX_MODEL_BACKEND"] = "offline"
    issuer = local_issuer()
    with local_stack(ROOT / ".local" / "logs") as urls, desktop_server(urls, issuer=issuer) as page:
        yield page


@contextmanager
def chromium_page(url: str, width: int = 1400, height: int = 1000) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        raise SystemExit(f"{CHROMIUM} not found: apt-get install chromium (or set CX_CHROMIUM)")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": width, "height": height}, locale="en-GB")
        context.grant_permissions(["clipboard-read", "clipboard-write"], origin=url.rstrip("/"))
        context.set_default_timeout(60000)
        context.request.post(url.rstrip("/") + "/auth/login", data={"user": "agent-demo"})  # the local front door
        page = context.new_page()
        page.goto(url)
        page.wait_for_selector("body[data-ready=true]")
        try:
            yield page
        finally:
            browser.close()


def _shot(locator: Any, name: str) -> Path:
    path = OUT / f"{name}.png"
    locator.screenshot(path=str(path), animations="disabled", caret="hide", scale="css")
    size = path.stat().st_size
    over = "  (over the 300 kB budget)" if size > MAX_BYTES else ""
    print(f"{path.relative_to(ROOT)}  {size / 1000:.0f} kB{over}")
    return path


def take(url: str) -> list[Path]:
    OUT.mkdir(parents=True, exist_ok=True)
    shots = []
    with chromium_page(url, width=1300, height=900) as page:
        page.select_option("#customer", "C-1004")
        page.select_option("#contact", "email-c1004-billing")
        page.wait_for_selector("#transcript:has-text('C-1004')")
        for panel, action in (
            ("cx-context-panel", "load"),
            ("cx-nba-panel", "suggest"),
            ("cx-reply-panel", "draft"),
            ("cx-next-steps-panel", "suggest"),
        ):
            page.click(f"{panel} button[data-action={action}]")
            page.wait_for_selector(f"{panel}[data-state=done]")
        steps = page.locator("cx-next-steps-panel")
        shots.append(_shot(page.locator("cx-context-panel"), "context-overview"))
        shots.append(_shot(page.locator("cx-nba-panel"), "next-best-action"))
        shots.append(_shot(page.locator("cx-reply-panel"), "reply-draft-review-flags"))
        shots.append(_shot(steps, "next-steps-before-confirm"))
        page.locator("cx-next-steps-panel select[data-field=queue]").select_option("Customer Service")
        page.click("cx-next-steps-panel button[data-action=confirm]")
        page.wait_for_selector("cx-next-steps-panel textarea[data-field=closing]")
        page.click("cx-next-steps-panel button[data-action=copy]")
        page.wait_for_selector("cx-next-steps-panel [data-copied]")
        shots.append(_shot(steps, "next-steps-confirmed-closing"))
        page.evaluate("document.body.style.zoom = '0.45'; window.scrollTo(0, 0)")  # the whole desktop, small
        shots.append(_shot(page.locator("body"), "agent-desktop"))
    with chromium_page(url, width=1300, height=900) as page:  # what an error and a degraded answer look like
        page.route(
            "**/api/next_best_action",
            lambda route: route.fulfill(
                status=500,
                json={
                    "error": {
                        "code": "internal",
                        "message": "internal error; quote the request id when reporting it",
                        "request_id": "3f2c9a7e1b8d4c6fa0e5d2b7c9a1f4e8",
                    }
                },
            ),
        )

        def degrade(route: Any) -> None:
            response = route.fetch()
            body = response.json()
            body.update(degraded=True, degraded_reason="Vertex AI did not answer within 8000 ms")
            route.fulfill(response=response, json=body)

        page.route("**/api/context_summary", degrade)
        page.get_by_label("Language").select_option("de")
        page.get_by_role("heading", name="Kontextübersicht").wait_for()
        page.select_option("#customer", "C-1002")
        page.select_option("#contact", "chat-c1002-outage")
        page.click("cx-context-panel button[data-action=load]")
        page.click("cx-nba-panel button[data-action=suggest]")
        page.wait_for_selector("cx-context-panel[data-state=done]")
        page.wait_for_selector("cx-nba-panel[data-state=error]")
        shots.append(_shot(page.locator("cx-context-panel"), "context-overview-degraded-de"))
        shots.append(_shot(page.locator("cx-nba-panel"), "next-best-action-error-de"))
    return shots


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="agent desktop of a running stack (default: start one)")
    args = parser.parse_args(argv)
    with desktop_url(args.url) as url:
        shots = take(url)
    too_big = [p for p in shots if p.stat().st_size > MAX_BYTES]
    return 1 if too_big else 0


if __name__ == "__main__":
    sys.exit(main())
