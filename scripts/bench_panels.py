"""Click → rendered result for each agent-desktop panel, in headless Chromium (offline engine).

    python -m scripts.bench_panels                    # starts the local stack itself
    python -m scripts.bench_panels --url http://127.0.0.1:8080/ --clicks 20

Each panel's button is clicked ``--clicks`` times after ``--warmup`` clicks (first requests
load lazily cached models and rules). Two clocks: in the page, from the click handler to the
frame after the result is in the DOM (the panel's ``cx-rendered`` event); and outside, from
Playwright's click to that event reaching the test (adds the browser round trip); plus the
HTTP call alone (Resource Timing), so the page's own share is the difference. The request
goes through the devstack /api proxy to functions-framework, as in local use.
Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from typing import Any

from scripts.screenshots import chromium_page, desktop_url

# (label, panel, button action, what must be on screen afterwards)
STEPS = [
    ("context overview", "cx-context-panel", "load", "cx-context-panel .bullets"),
    ("next best action", "cx-nba-panel", "suggest", "cx-nba-panel .reasons"),
    ("reply draft", "cx-reply-panel", "draft", "cx-reply-panel .draft"),
    ("next steps", "cx-next-steps-panel", "suggest", "cx-next-steps-panel .ns-form"),
    ("confirm next steps", "cx-next-steps-panel", "confirm", "cx-next-steps-panel .confirmed"),
]


def _click(page: Any, panel: str, action: str, done: str) -> tuple[float, float, float]:
    """(in-page ms, outside ms, HTTP ms) for one click until the panel reports the rendered result."""
    page.evaluate("window.__cx = []; performance.clearResourceTimings()")
    t = time.perf_counter()
    page.click(f"{panel} button[data-action={action}]")
    page.wait_for_function("window.__cx.length > 0")
    outside = (time.perf_counter() - t) * 1000
    detail = page.evaluate("window.__cx[0]")
    if not detail["ok"] or page.locator(done).count() == 0:
        raise RuntimeError(f"{panel} {action} did not render a result: {page.locator(panel).inner_text()[:500]}")
    http = page.evaluate(
        "fn => performance.getEntriesByType('resource').filter(e => e.name.endsWith('/api/' + fn))"
        ".map(e => e.duration).pop() || 0",
        detail["fn"],
    )
    return detail["ms"], outside, http


def run(url: str, clicks: int, warmup: int, contact: tuple[str, str]) -> dict[str, dict[str, float]]:
    results: dict[str, dict[str, float]] = {}
    with chromium_page(url) as page:
        page.evaluate("document.addEventListener('cx-rendered', e => window.__cx.push(e.detail))")
        page.select_option("#customer", contact[0])
        page.select_option("#contact", contact[1])
        page.wait_for_selector(f"#transcript:has-text('{contact[0]}')")
        for label, panel, action, done in STEPS:
            inside, outside, http = [], [], []
            for i in range(warmup + clicks):
                if action == "confirm":  # a confirmation needs a fresh suggestion (a new contact state)
                    page.locator(panel).evaluate("el => { el.contact = el.contact; }")
                    _click(page, panel, "suggest", "cx-next-steps-panel .ns-form")
                ms_in, ms_out, ms_http = _click(page, panel, action, done)
                if i >= warmup:
                    inside.append(ms_in)
                    outside.append(ms_out)
                    http.append(ms_http)
            p90 = statistics.quantiles(inside, n=10, method="inclusive")[-1] if clicks >= 2 else inside[0]
            results[label] = {
                "clicks": clicks,
                "p50_ms": round(statistics.median(inside), 1),
                "p90_ms": round(p90, 1),
                "p50_outside_ms": round(statistics.median(outside), 1),
                "p50_http_ms": round(statistics.median(http), 1),
                "max_ms": round(max(inside), 1),
            }
            r = results[label]
            print(
                f"{label:<20} p50 {r['p50_ms']:>7.1f} ms   p90 {r['p90_ms']:>7.1f} ms   max {r['max_ms']:>7.1f} ms   "
                f"of which HTTP p50 {r['p50_http_ms']:>6.1f} ms  (Playwright clock p50 {r['p50_outside_ms']:.1f} ms)"
            )
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="agent desktop of a running stack (default: start one)")
    parser.add_argument("--clicks", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--contact", default="C-1004/email-c1004-billing", help="customer/contact from the samples")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON too")
    args = parser.parse_args(argv)
    customer, contact = args.contact.split("/", 1)
    with desktop_url(args.url) as url:
        print(
            f"agent desktop {url}; {args.clicks} clicks per panel after {args.warmup} warm-up clicks; "
            f"contact {customer}/{contact}"
        )
        results = run(url, args.clicks, args.warmup, (customer, contact))
    if args.json:
        print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
