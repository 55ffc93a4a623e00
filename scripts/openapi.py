"""Generate the OpenAPI 3.1 document of every HTTP function from its pydantic models, and the
JSON Schema of the change events the snapshot_sync function consumes.

    python -m scripts.openapi          # rewrite functions/openapi.json and functions/sync_events.schema.json
    python -m scripts.openapi --check  # exit 1 if a committed file is stale
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from pydantic.json_schema import models_json_schema

from shared.platform.identity import ROLES as ROLE_ENUM
from shared.settings import ROOT

OUTPUT = ROOT / "functions" / "openapi.json"
SYNC_OUTPUT = ROOT / "functions" / "sync_events.schema.json"
ERRORS = {
    "400": "Malformed JSON, or a field failed validation (see details[].field).",
    "401": "No identity token, or one that does not verify (signature, issuer, audience, expiry).",
    "403": "Identity headers from a caller other than an allow-listed platform service account, an identity "
    "without a configured role, or a role that may not use this function.",
    "404": "Unknown customer or ticket, or a customer outside the caller's scope (answered alike).",
    "405": "Only POST is allowed.",
    "409": "Conflict: the state changed since the request was made (error.current holds it), or concurrent "
    "updates outlasted the retries (Retry-After).",
    "413": "Body larger than CX_MAX_REQUEST_BYTES.",
    "415": "Content-Type is not application/json.",
    "500": "Unexpected error; quote the request id.",
    "503": "A backing service is unavailable; retry after the Retry-After seconds.",
}
HEADERS = [
    (
        "X-Goog-IAP-JWT-Assertion",
        "Added by Identity-Aware Proxy for a signed-in person (locally by the dev "
        "stack's sign-in); never set by the browser.",
        {"type": "string"},
    ),
    (
        "X-Agent-Id",
        "Only from an allow-listed platform service account (through IAP, or its Google ID token): "
        "the agent it acts for. Refused (403) from a signed-in person.",
        {"type": "string", "pattern": "^[A-Za-z0-9._:@-]{1,128}$"},
    ),
    (
        "X-Agent-Role",
        "Only from an allow-listed platform service account: the agent's role, within the roles "
        "config/safety/access.yaml lets that platform assert.",
        {"type": "string", "enum": list(ROLE_ENUM)},
    ),
    (
        "X-Request-Id",
        "Caller's request id, echoed back; generated when absent.",
        {"type": "string", "pattern": "^[A-Za-z0-9._:@-]{1,128}$"},
    ),
    ("X-Cloud-Trace-Context", "Cloud Trace context, copied into logs.", {"type": "string"}),
]


def build() -> dict[str, Any]:
    import main  # noqa: F401 - registers every entry point
    from shared.platform.http import ENDPOINTS, ErrorResponse

    specs = sorted(ENDPOINTS.values(), key=lambda e: e.name)
    models = [(m, "validation") for e in specs for m in (e.request_model,)]
    models += [(m, "serialization") for e in specs for m in (e.response_model,)]
    models.append((ErrorResponse, "serialization"))
    refs, defs = models_json_schema(models, ref_template="#/components/schemas/{model}")
    ref = lambda model, mode: refs[(model, mode)]  # noqa: E731
    params = [{"name": n, "in": "header", "required": False, "description": d, "schema": s} for n, d, s in HEADERS]
    paths: dict[str, Any] = {}
    for spec in specs:
        error_content = {"application/json": {"schema": ref(ErrorResponse, "serialization")}}
        responses: dict[str, Any] = {
            "200": {
                "description": "The suggestion, for the agent to review.",
                "headers": {"X-Request-Id": {"schema": {"type": "string"}}},
                "content": {"application/json": {"schema": ref(spec.response_model, "serialization")}},
            }
        }
        responses |= {code: {"description": text, "content": error_content} for code, text in ERRORS.items()}
        paths[f"/{spec.name}"] = {
            "post": {
                "operationId": spec.name,
                "summary": spec.summary,
                "description": f"Callable by roles: {', '.join(spec.roles)}.",
                "parameters": params,
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": ref(spec.request_model, "validation")}},
                },
                "responses": responses,
                "security": [{"iapJwt": []}, {"googleIdToken": []}],
            }
        }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "CX Copilot functions",
            "version": "1",
            "description": (
                "Each path is one Cloud Function with its own URL "
                "(https://REGION-PROJECT.cloudfunctions.net/NAME); locally `python -m scripts.devstack up` "
                "serves each on its own port at /. Every response is a suggestion the agent reviews; "
                "`engine` says whether Gemini or the offline engine answered and `degraded` whether a "
                "Gemini failure was covered by the offline engine."
            ),
        },
        "servers": [
            {
                "url": "https://{region}-{project}.cloudfunctions.net",
                "variables": {"region": {"default": "europe-west1"}, "project": {"default": "my-project"}},
            }
        ],
        "paths": paths,
        "components": {
            "schemas": defs.get("$defs", {}),
            "securitySchemes": {
                "googleIdToken": {
                    "type": "http",
                    "scheme": "bearer",
                    "bearerFormat": "Google-signed ID token of an allow-listed platform service account",
                },
                "iapJwt": {
                    "type": "apiKey",
                    "in": "header",
                    "name": "X-Goog-IAP-JWT-Assertion",
                    "description": "ES256 JWT signed by Identity-Aware Proxy (docs/identity.md)",
                },
            },
        },
    }


def render() -> str:
    return json.dumps(build(), indent=2, ensure_ascii=False, sort_keys=False) + "\n"


def render_sync_schema() -> str:
    from shared.data.sync import json_schema

    return json.dumps(json_schema(), indent=2, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args(argv)
    outputs = {OUTPUT: render(), SYNC_OUTPUT: render_sync_schema()}
    if args.check:
        stale = [p for p, text in outputs.items() if not p.exists() or p.read_text("utf-8") != text]
        for path in stale:
            print(f"{path.relative_to(ROOT)} is stale: run python -m scripts.openapi")
        if not stale:
            print("openapi.json and sync_events.schema.json are up to date")
        return 1 if stale else 0
    for path, text in outputs.items():
        path.write_text(text, "utf-8")
        print(f"wrote {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
