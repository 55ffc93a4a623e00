"""cx import on the emulators: vendor exports through their mappings, rejects with reasons, resume, reruns."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from scripts import importer
from shared.decisions.queues import QueueCatalogue
from shared.runtime import Runtime
from shared.settings import ROOT

pytestmark = pytest.mark.integration
MAPPINGS = ROOT / "scripts" / "import_mappings"
FIXTURES = ROOT / "tests" / "fixtures" / "imports"


def run(rt: Runtime, mapping: str, fixture: str, tmp_path: Path, **kw: Any) -> importer.Report:
    return importer.run(
        importer.Mapping.load(MAPPINGS / f"{mapping}.yaml"),
        rt,
        path=FIXTURES / fixture,
        checkpoint=tmp_path / f"{mapping}.checkpoint.json",
        progress=False,
        **kw,
    )


def reasons(report: importer.Report) -> dict[int, str]:
    return {r["row"]: r["reason"] for r in report.rejected}


def customers(rt: Runtime) -> set[str]:
    return {d.id for d in rt.firestore.collection("customers").select([]).stream()}


def test_zendesk_users_and_tickets_export(runtime: Runtime, tmp_path: Path) -> None:
    users = run(runtime, "zendesk_users", "zendesk_users.json", tmp_path)
    assert (users.rows, dict(users.outcomes)) == (3, {"applied": 2, "rejected": 1})
    assert "profile.name" in reasons(users)[3]
    lena = runtime.snapshots.get_snapshot("ZD-36000000001").customer
    assert (lena.profile.name, lena.profile.language, lena.profile.timezone, lena.segment) == (
        "Lena Vogel",
        "de",
        "Europe/Berlin",
        "gold",
    )
    assert lena.preferences == ["prefers email", "no calls before 10:00"]
    assert runtime.snapshots.get_snapshot("ZD-36000000002").customer.profile.language == "en"

    tickets = run(runtime, "zendesk_tickets", "zendesk_tickets.json", tmp_path)
    assert dict(tickets.outcomes) == {"applied": 2, "stale": 1, "rejected": 2}
    assert "'deleted' has no mapping" in reasons(tickets)[4]
    assert reasons(tickets)[5] == "customer not known: import the customers first"
    (t4101,) = runtime.snapshots.get_tickets("ZD-36000000001", ["ZD-4101"])
    assert (t4101.subject, t4101.status, t4101.priority, t4101.category) == (
        "Internet drops every evening",
        "open",
        "high",
        "incident",
    )  # the newer row won over the older one
    (t4102,) = runtime.snapshots.get_tickets("ZD-36000000002", ["ZD-4102"])
    assert (t4102.status, t4102.priority) == ("closed", "medium")
    again = run(runtime, "zendesk_tickets", "zendesk_tickets.json", tmp_path)  # a rerun changes nothing
    assert dict(again.outcomes) == {"duplicate": 2, "stale": 1, "rejected": 2}


def test_salesforce_contacts_and_cases_csv_resume_after_an_interruption(
    runtime: Runtime, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    contacts = run(runtime, "salesforce_contacts", "salesforce_Contact.csv", tmp_path)
    assert dict(contacts.outcomes) == {"applied": 2, "rejected": 1} and "updated_at" in reasons(contacts)[3]
    marta = runtime.snapshots.get_snapshot("SF-0035g00000ABCDEAA1").customer.profile
    pierre = runtime.snapshots.get_snapshot("SF-0035g00000ABCDFAA1").customer.profile
    assert (marta.name, marta.consent.marketing, pierre.consent.marketing) == ("Marta Kowalski", True, False)

    written: list[int] = []
    real_write = importer.Importer.write

    def crashing(self: importer.Importer, batch: list, report: importer.Report) -> None:  # noqa: ANN001
        if len(written) == 2:
            raise KeyboardInterrupt  # the operator's laptop goes to sleep after two rows
        written.extend(n for n, _ in batch)
        real_write(self, batch, report)

    monkeypatch.setattr(importer.Importer, "write", crashing)
    with pytest.raises(KeyboardInterrupt):
        run(runtime, "salesforce_cases", "salesforce_Case.csv", tmp_path, batch_size=1)
    checkpoint = tmp_path / "salesforce_cases.checkpoint.json"
    assert checkpoint.exists()
    monkeypatch.setattr(
        importer.Importer,
        "write",
        lambda self, batch, report: (written.extend(n for n, _ in batch), real_write(self, batch, report)),
    )
    cases = run(runtime, "salesforce_cases", "salesforce_Case.csv", tmp_path, batch_size=1)
    assert written == [1, 2, 4]  # resumed at row 3 (rejected by its mapping): no row imported twice
    assert dict(cases.outcomes) == {"applied": 3, "rejected": 1} and not checkpoint.exists()
    assert "'Waiting on Customer' has no mapping" in reasons(cases)[3]
    tickets = {t.ticket_id: t for t in runtime.snapshots.get_snapshot("SF-0035g00000ABCDEAA1").tickets}
    assert tickets["SF-00001026"].status == "open" and tickets["SF-00001026"].category == "problem"
    (refund,) = runtime.snapshots.get_tickets("SF-0035g00000ABCDFAA1", ["SF-00001027"])
    assert refund.status == "closed" and refund.closed_at is not None and refund.category == "billing"

    orders = run(runtime, "orders_csv", "orders.csv", tmp_path)
    assert dict(orders.outcomes) == {"applied": 1, "rejected": 1} and "order.status" in reasons(orders)[2]


def test_interactions_count_once_in_the_stats(runtime: Runtime, tmp_path: Path) -> None:
    run(runtime, "zendesk_users", "zendesk_users.json", tmp_path)
    before = runtime.snapshots.get_snapshot("ZD-36000000001").customer.stats.interactions_total
    report = run(runtime, "interactions_jsonl", "interactions.jsonl", tmp_path)
    assert report.outcomes["rejected"] == 0 and report.outcomes["duplicate"] >= 1
    stats = runtime.snapshots.get_snapshot("ZD-36000000001").customer.stats
    assert stats.interactions_total == before + report.outcomes["applied"]
    assert {i.interaction_id for i in runtime.snapshots.get_snapshot("ZD-36000000001").interactions} >= {
        "CALL-1",
        "CHAT-2",
    }


def test_catalogue_kb_and_queues_load_without_writing_customers(runtime: Runtime, tmp_path: Path) -> None:
    known = customers(runtime)
    offers = run(runtime, "offers_jsonl", "offers.jsonl", tmp_path)
    assert dict(offers.outcomes) == {"applied": 1, "rejected": 1} and "discount_percent" in reasons(offers)[2]
    assert "IMP-LOYAL-5" in {o.offer_id for o in runtime.offers.catalogue()}
    kb = run(runtime, "kb_csv", "kb.csv", tmp_path)
    assert dict(kb.outcomes) == {"applied": 2}
    stored = runtime.firestore.collection(runtime.settings.kb_collection).document("KB-IMP-RECHNUNG").get().to_dict()
    assert stored["language"] == "de" and stored["tags"] == ["billing"]
    out = tmp_path / "queues.yaml"
    queues = run(runtime, "queues_csv", "queues.csv", tmp_path, output=out)
    assert dict(queues.outcomes) == {"applied": 3}
    catalogue = QueueCatalogue.model_validate(yaml.safe_load(out.read_text("utf-8")))
    assert [g.code for g in catalogue.groups] == ["Q-BILL", "Q-TECH", "Q-CS"]
    assert catalogue.route("kundenservice").queue_code == "Q-CS" and catalogue.triage.code == "Q-TRIAGE"
    assert customers(runtime) == known


def test_cli_reports_rejected_rows_and_reasons(runtime: Runtime, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    rejects = tmp_path / "rejects.jsonl"
    code = importer.main(
        [
            "--mapping",
            str(MAPPINGS / "zendesk_users.yaml"),
            "--input",
            str(FIXTURES / "zendesk_users.json"),
            "--checkpoint",
            str(tmp_path / "c.json"),
            "--rejects",
            str(rejects),
            "--no-progress",
        ],
        runtime=runtime,
    )
    out = capsys.readouterr().out
    assert code == 1 and "zendesk_users: 3 rows:" in out and "rejected 1×: profile.name" in out
    assert rejects.read_text("utf-8").count("\n") == 1
