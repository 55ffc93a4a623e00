"""The BigQuery side of privacy requests, against a fake REST session: statements, parameters, paging."""

from __future__ import annotations

import json
from typing import Any

from shared.data.privacy import WAREHOUSE_PLAN, BigQueryWarehouse


class Resp:
    def __init__(self, body: dict[str, Any]) -> None:
        self.body = body

    def raise_for_status(self) -> None:
        pass

    def json(self) -> dict[str, Any]:
        return self.body


class FakeSession:
    def __init__(self, answers: list[dict[str, Any]]) -> None:
        self.answers = answers
        self.calls: list[tuple[str, str, dict[str, Any]]] = []

    def post(self, url: str, json: dict[str, Any], timeout: float) -> Resp:  # noqa: A002 - requests' name
        self.calls.append(("POST", url, json))
        return Resp(self.answers.pop(0))

    def get(self, url: str, params: dict[str, Any], timeout: float) -> Resp:
        self.calls.append(("GET", url, params))
        return Resp(self.answers.pop(0))


def test_events_are_read_with_a_named_parameter_across_pages() -> None:
    event = {"event_type": "ticket.closed", "customer_key": "k1"}
    session = FakeSession(
        [
            {
                "jobComplete": True,
                "jobReference": {"jobId": "j1", "location": "EU"},
                "pageToken": "p2",
                "rows": [{"f": [{"v": "2026-01-01 00:00:00+00"}, {"v": json.dumps(event)}]}],
            },
            {"jobComplete": True, "rows": [{"f": [{"v": "2026-01-02 00:00:00+00"}, {"v": json.dumps(event)}]}]},
        ]
    )
    rows = BigQueryWarehouse(session, "proj", "cx_analytics").events_for("k1")
    assert [r["data"] for r in rows] == [event, event]
    method, url, body = session.calls[0]
    assert (method, url) == ("POST", "https://bigquery.googleapis.com/bigquery/v2/projects/proj/queries")
    assert body["useLegacySql"] is False and body["parameterMode"] == "NAMED"
    assert "`proj.cx_analytics`.events_raw" in body["query"] and "@key" in body["query"]
    assert body["queryParameters"] == [
        {"name": "key", "parameterType": {"type": "STRING"}, "parameterValue": {"value": "k1"}}
    ]
    assert session.calls[1][0] == "GET" and session.calls[1][2]["pageToken"] == "p2"


def test_erasure_deletes_from_every_linked_table_and_waits_for_each_job() -> None:
    answers: list[dict[str, Any]] = []
    for _ in WAREHOUSE_PLAN:
        answers += [
            {"jobComplete": False, "jobReference": {"jobId": "j", "location": "EU"}},
            {"jobComplete": True, "numDmlAffectedRows": "2"},
        ]
    session = FakeSession(answers)
    counts = BigQueryWarehouse(session, "proj", "cx_analytics").erase("k1", ["T-1", "T-2"], [])
    deletes = [c[2] for c in session.calls if c[0] == "POST"]
    assert all(d["query"].startswith("DELETE FROM `proj.cx_analytics`.") for d in deletes)
    assert {t for t, link, _ in WAREHOUSE_PLAN if link != "suggestion"} == set(counts)  # no ids: no statement
    assert counts["events_raw"] == 2 and counts["qa_verdicts"] == 2
    tickets = next(d for d in deletes if "mat_tickets" in d["query"])
    assert "IN UNNEST(@v)" in tickets["query"]
    assert tickets["queryParameters"][0]["parameterValue"] == {"arrayValues": [{"value": "T-1"}, {"value": "T-2"}]}
