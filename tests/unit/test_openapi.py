from __future__ import annotations

import json

from openapi_spec_validator import validate

from scripts import openapi
from shared.settings import ROOT


def test_committed_openapi_is_current() -> None:
    committed = json.loads((ROOT / "functions" / "openapi.json").read_text("utf-8"))
    assert committed == openapi.build(), "functions/openapi.json is stale: run python -m scripts.openapi"


def test_openapi_is_a_valid_31_document() -> None:
    doc = openapi.build()
    validate(doc)
    assert doc["openapi"] == "3.1.0"


def test_every_entry_point_in_main_is_documented() -> None:
    import main
    from shared.platform.http import ENDPOINTS

    http_functions = set(main.__all__) - set(main.EVENT_FUNCTIONS)
    assert set(ENDPOINTS) == http_functions
    assert set(openapi.build()["paths"]) == {f"/{name}" for name in http_functions}
    assert all(callable(getattr(main, name)) for name in main.__all__)


def test_error_schema_names_fields() -> None:
    schemas = openapi.build()["components"]["schemas"]
    assert schemas["ErrorDetail"]["required"] == ["field", "problem"]
    assert "request_id" in schemas["ErrorBody"]["required"]
