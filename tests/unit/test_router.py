"""Router: training on a project-written fixture, calibration and abstain, fallback, catalogue swap."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from scripts.router_training import choose_threshold, pseudonymize_example, train
from scripts.train_router import Columns, apply_overrides, canonical, read_export, read_overrides, split
from shared.decisions.queues import QueueCatalogue
from shared.decisions.router import Router, RoutingConfig, final_route
from shared.language.intents import IntentClassifier
from shared.safety.pii.local import LocalDetector

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures"
CONFIG = ROOT / "config"
ACME = FIXTURES / "routing_catalogue"
QUEUES = QueueCatalogue.load(CONFIG / "decisions/queues.yaml")
CFG = RoutingConfig.load(CONFIG / "decisions/routing.yaml")
INTENTS = IntentClassifier(CONFIG / "language/intents.yaml", CONFIG / "language/intent_examples.yaml")
PII = LocalDetector.load(CONFIG / "safety/pii.yaml")
BILLING_DE = ("Doppelte Abbuchung", "Sie haben die Rechnung für Oktober zweimal abgebucht, bitte erstatten.")
OFF_TOPIC = ("Weather", "What will the weather be like in Lisbon next weekend, and which museums are open?")


@pytest.fixture(scope="module")
def artefact(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tickets = read_export(FIXTURES / "routing_tickets.csv", Columns())
    trained = train([t.text for t in tickets], [t.queue for t in tickets], CFG, QUEUES, detector=PII, source="fixture")
    return trained.save(tmp_path_factory.mktemp("router"))


def router(artefact: Path | None, **config: object) -> Router:
    cfg = CFG.model_copy(update=config)
    return Router(
        QUEUES,
        cfg,
        str(artefact) if artefact else None,
        fallback_intent=INTENTS.classify,
        fallback_version="intents-test",
    )


def test_artefact_is_versioned_with_its_data_and_catalogue(artefact: Path) -> None:
    meta = json.loads((artefact / "router.json").read_text("utf-8"))
    assert meta["router_version"].startswith("router-") and meta["router_version"].endswith(
        meta["training_data_sha256"][:8]
    )
    assert meta["catalogue_version"] == QUEUES.version and meta["tickets"] == 48
    assert set(meta["labels"]) <= set(QUEUES.labels) and len(meta["labels"]) == 6
    assert 0.0 <= meta["abstain_threshold"] < 1.0
    assert "out-of-fold" in meta["threshold_selection"]["method"]
    assert {e["resolver_group"] for e in meta["examples"]} == set(meta["labels"])
    assert all(len(e["text"]) <= CFG.example_chars + 2 for e in meta["examples"])


def test_clear_ticket_is_routed_with_three_calibrated_candidates(artefact: Path) -> None:
    r = router(artefact)
    d = r.route(*BILLING_DE)
    meta = json.loads((artefact / "router.json").read_text("utf-8"))
    assert (d.resolver_group, d.queue_code, d.abstained, d.flagged) == ("Billing and Payments", "Q-BILL", False, False)
    assert d.method == "model" and d.router_version == meta["router_version"] == r.version
    probs = [c.probability for c in d.candidates]
    assert len(probs) == 3 and probs == sorted(probs, reverse=True) and sum(probs) <= 1.0001
    assert d.candidates[0].resolver_group == "Billing and Payments" and d.confidence == probs[0]
    assert d.examples and d.examples[0].resolver_group == "Billing and Payments"
    assert "abgebucht" in d.examples[0].text  # the nearest stored past ticket is the similar one


def test_unsure_ticket_goes_to_triage_flagged_with_candidates(artefact: Path) -> None:
    d = router(artefact).route(*OFF_TOPIC)
    assert d.confidence < 0.6  # calibrated: no near-1.0 certainty on text unlike any queue
    assert (d.resolver_group, d.queue_code, d.abstained, d.flagged) == ("Triage", "Q-TRIAGE", True, True)
    assert len(d.candidates) == 3 and d.candidates[0].queue_code != "Q-TRIAGE"


def test_abstain_threshold_is_configuration(artefact: Path) -> None:
    assert router(artefact, abstain_threshold=0.0).route(*OFF_TOPIC).abstained is False
    always = router(artefact, abstain_threshold=1.0).route(*BILLING_DE)
    assert always.abstained and always.queue_code == "Q-TRIAGE"


def test_ticket_queue_given_by_the_agent_wins_but_candidates_stay(artefact: Path) -> None:
    d = router(artefact).route(*OFF_TOPIC, current_queue="Abrechnung")
    assert (d.queue_code, d.method, d.flagged) == ("Q-BILL", "ticket", False) and len(d.candidates) == 3


def test_without_artefact_the_intent_mapping_routes(tmp_path: Path) -> None:
    r = router(tmp_path / "nothing-here")
    d = r.route("Rechnung", "Sie haben mir den Oktober doppelt abgebucht.")
    assert (d.resolver_group, d.method, d.flagged) == ("Billing and Payments", "fallback", False)
    assert d.router_version == "fallback:intents-test" == r.version
    off = r.route(*OFF_TOPIC)
    assert (off.queue_code, off.flagged, off.candidates) == ("Q-TRIAGE", True, [])


def test_threshold_is_the_smallest_that_reaches_the_target() -> None:
    proba = np.array([[0.9, 0.1], [0.8, 0.2], [0.6, 0.4], [0.55, 0.45], [0.3, 0.7]])
    labels = ["a", "a", "b", "a", "b"]  # the 0.6 prediction is wrong
    t, info = choose_threshold(proba, labels, ["a", "b"], target=0.9, min_kept_share=0.2)
    assert t == pytest.approx(0.61) and info["kept_accuracy"] == 1.0 and info["target_met"] == 1.0
    t, info = choose_threshold(proba, labels, ["a", "b"], target=1.0, min_kept_share=0.9)
    assert info["target_met"] == 0.0 and info["kept_share"] >= 0.9


def test_final_route_keeps_known_labels_and_abstains_on_unknown(artefact: Path) -> None:
    unsure = router(artefact).route(*OFF_TOPIC)
    top = unsure.candidates[0].resolver_group
    assert final_route(QUEUES, unsure, top).model_dump() == {**QUEUES.route(top).model_dump(), "flagged": True}
    outside = next(g for g in QUEUES.labels if g not in {c.resolver_group for c in unsure.candidates})
    assert final_route(QUEUES, unsure, outside).queue_code == "Q-TRIAGE"
    sure = router(artefact).route(*BILLING_DE)
    assert final_route(QUEUES, sure, "Kundenservice").queue_code == "Q-CS"  # the model's known choice stands
    assert final_route(QUEUES, sure, "Moon base").model_dump()["flagged"] is True


def test_overrides_are_newer_ground_truth(tmp_path: Path) -> None:
    events = tmp_path / "events.jsonl"
    rows = [
        {
            "event_type": "resolver.overridden",
            "ticket_id": "RT-001",
            "final_group": "Customer Service",
            "occurred_at": "2026-11-20T10:00:00+00:00",
        },
        {
            "event_type": "resolver.overridden",
            "ticket_id": "RT-001",
            "final_group": "Technical Support",
            "occurred_at": "2026-11-21T10:00:00+00:00",
        },
        {
            "data": json.dumps(
                {
                    "event_type": "resolver.overridden",
                    "ticket_id": "RT-009",
                    "final_group": "Kundenservice",
                    "occurred_at": "2026-11-21T10:00:00+00:00",
                }
            )
        },
        {"event_type": "next_steps.confirmed", "ticket_id": "RT-010"},
    ]
    events.write_text("\n".join(json.dumps(r) for r in rows), "utf-8")
    overrides = read_overrides(events)
    assert overrides == {"RT-001": "Technical Support", "RT-009": "Kundenservice"}
    tickets = read_export(FIXTURES / "routing_tickets.csv", Columns())
    assert apply_overrides(tickets, overrides) == 2
    tickets = canonical(tickets, QUEUES, drop_unknown=False)
    by_id = {t.ticket_id: t.queue for t in tickets}
    assert by_id["RT-001"] == "Technical Support" and by_id["RT-009"] == "Customer Service"  # alias resolved


def test_split_is_stratified_and_seeded() -> None:
    tickets = read_export(FIXTURES / "routing_tickets.csv", Columns())
    train_part, test_part = split(tickets)
    assert len(test_part) == 12 and {t.queue for t in test_part} == {t.queue for t in tickets}
    assert [t.ticket_id for t in split(tickets)[1]] == [t.ticket_id for t in test_part]


def test_a_new_catalogue_works_by_configuration_only(artefact: Path) -> None:
    acme = QueueCatalogue.load(ACME / "decisions/queues.yaml")
    tickets = canonical(read_export(ACME / "routing_tickets.csv", Columns()), acme, drop_unknown=False)
    trained = train([t.text for t in tickets], [t.queue for t in tickets], CFG, acme, detector=PII)
    directory = trained.save(Path(str(artefact) + "-acme"))
    r = Router(acme, CFG.model_copy(update={"abstain_threshold": 0.0}), str(directory))
    d = r.route("Absturz", "Die Software stürzt beim Speichern mit einem Fehler ab.")
    assert (d.resolver_group, d.queue_code) == ("Tech Desk", "ACME-TEC")
    assert {c.queue_code for c in d.candidates} <= {"ACME-FIN", "ACME-TEC", "ACME-CARE", "ACME-PRD"}
    assert acme.route("Billing and Payments").queue_code == "ACME-FIN"  # old export labels are aliases
    assert acme.route("Pizza").queue_code == "ACME-000"
    # An artefact trained for the old catalogue never routes into labels the new one lacks.
    stale = Router(acme, CFG.model_copy(update={"abstain_threshold": 0.0}), str(artefact)).route(*BILLING_DE)
    assert stale.queue_code == "ACME-FIN" and stale.candidates[0].queue_code == "ACME-FIN"
    outdated = Router(acme, CFG.model_copy(update={"abstain_threshold": 0.0}), str(artefact))
    assert outdated.route("Router", "Mein Router startet ständig neu.").queue_code in ("ACME-TEC", "ACME-000")
    unknown_intents = IntentClassifier(ACME / "language/intents.yaml", ACME / "language/intent_examples.yaml")
    assert unknown_intents.predict("Die Rechnung hat eine falsche Gebühr").label == "payment"
    assert unknown_intents.predict("What is the capital of Peru?").label == "unknown"


def test_training_rejects_labels_outside_the_catalogue() -> None:
    with pytest.raises(ValueError, match="not in the queue catalogue"):
        train(
            ["a b", "c d", "e f", "g h"],
            ["Moon base", "Moon base", "Billing and Payments", "Billing and Payments"],
            CFG,
            QUEUES,
            detector=PII,
        )


def test_examples_are_pseudonymized_and_clipped() -> None:
    text = pseudonymize_example("Write to jane.doe@example.com or call +49 30 1234567 " + "word " * 100, 80, PII)
    assert "jane" not in text and "[EMAIL]" in text and "[PHONE]" in text and len(text) <= 82


def test_intent_says_unknown_without_topic_evidence() -> None:
    assert INTENTS.predict("I want to cancel my contract").label == "cancellation"
    assert INTENTS.predict("Seit gestern kein Internet", "de").label == "outage"
    off = INTENTS.predict("How do I activate my new debit card for contactless payments abroad?")
    assert off.known is False or off.label == "billing"  # "payments" is a billing cue; never a random topic
    weather = INTENTS.predict("Will it rain in Lisbon next weekend?")
    assert (weather.label, weather.known, weather.confidence) == ("general", False, 0.0)


def test_serving_never_imports_sklearn(artefact: Path) -> None:
    code = (
        "import sys, shared.decisions.router, shared.runtime, shared.capabilities.next_steps\n"
        "before = 'sklearn' in sys.modules\n"
        "from shared.decisions.queues import QueueCatalogue\n"
        "from shared.decisions.router import Router, RoutingConfig\n"
        f"q = QueueCatalogue.load(shared.decisions.router.Path({str(CONFIG / 'decisions/queues.yaml')!r}))\n"
        f"d = Router(q, RoutingConfig(version='t'), {str(artefact)!r}).route('Rechnung', 'doppelt abgebucht')\n"
        "print(before, 'sklearn' in sys.modules, 'scipy' in sys.modules, d.method)"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "False False False model"


def test_numpy_scorer_matches_scikit_learn(tmp_path: Path) -> None:
    from shared.decisions.router import LinearTextModel

    tickets = read_export(FIXTURES / "routing_tickets.csv", Columns())
    for labels in (
        [t.queue for t in tickets],  # multiclass
        ["Billing and Payments" if t.queue == "Billing and Payments" else "Customer Service" for t in tickets],
    ):  # binary
        trained = train([t.text for t in tickets], labels, CFG, QUEUES, detector=PII)
        directory = trained.save(tmp_path / str(len(set(labels))))
        with np.load(directory / "router.npz", allow_pickle=False) as arrays:
            model = LinearTextModel(arrays)
        texts = [*BILLING_DE, *OFF_TOPIC, "", "a", "Ünïcode   spaces\tand\nlines — 42 € refund!!", "x" * 300]
        assert model.classes == list(trained.pipeline.classes_)
        assert np.allclose(model.predict_proba(texts), trained.pipeline.predict_proba(texts), atol=1e-9)


def test_queues_with_too_few_tickets_wait_for_more_data() -> None:
    tickets = read_export(FIXTURES / "routing_tickets.csv", Columns())
    texts = [t.text for t in tickets] + ["Please send me the HR form.", "Wo ist das Formular der Personalabteilung?"]
    labels = [t.queue for t in tickets] + ["Human Resources", "hr"]
    trained = train(texts, labels, CFG, QUEUES, detector=PII)
    assert "Human Resources" not in trained.meta["labels"] and len(trained.meta["labels"]) == 6
    assert trained.meta["dropped_labels"]["below_minimum"] == ["Human Resources"]
    with pytest.raises(ValueError, match="at least two queues"):
        train(texts[:8] + texts[-2:], labels[:8] + labels[-2:], CFG, QUEUES, detector=PII)


def test_overrides_are_read_from_the_local_warehouse(tmp_path: Path) -> None:
    from datetime import UTC, datetime

    from scripts.warehouse_db import connect, insert_raw

    db = tmp_path / "wh.duckdb"
    con = connect(db)
    event = {
        "event_id": "e-1",
        "event_type": "resolver.overridden",
        "occurred_at": "2026-11-21T10:00:00+00:00",
        "ticket_id": "RT-017",
        "final_group": "Technical Support",
        "suggested_group": "Triage",
    }
    other = {
        "event_id": "e-2",
        "event_type": "next_steps.confirmed",
        "occurred_at": "2026-11-21T10:00:00+00:00",
        "ticket_id": "RT-018",
    }
    now = datetime.now(UTC)
    insert_raw(
        con,
        [
            ("sub", "m1", now, json.dumps(event), "{}"),
            ("sub", "m2", now, json.dumps(event), "{}"),
            ("sub", "m3", now, json.dumps(other), "{}"),
        ],
    )
    con.close()
    assert read_overrides(warehouse=db) == {"RT-017": "Technical Support"}


class FakeStorage:
    """google.cloud.storage.Client stand-in: objects by (bucket, name) → local file; the rest is denied."""

    def __init__(self, objects: dict[tuple[str, str], Path]) -> None:
        self.objects, self.requested = objects, []

    def bucket(self, bucket_name: str) -> object:
        storage = self

        class Blob:
            def __init__(self, name: str) -> None:
                self.name = name

            def download_to_filename(self, filename: str) -> None:
                from google.api_core.exceptions import Forbidden

                storage.requested.append((bucket_name, self.name))
                source = storage.objects.get((bucket_name, self.name))
                if source is None:
                    raise Forbidden("caller does not have storage.objects.get access")
                Path(filename).write_bytes(source.read_bytes())

        class Bucket:
            def blob(self, name: str) -> Blob:
                return Blob(name)

        return Bucket()


def test_router_artefact_on_cloud_storage_is_downloaded_and_used(artefact: Path) -> None:
    fake = FakeStorage({("cx-models", f"routers/v3/{f.name}"): f for f in artefact.iterdir()})
    gcs = Router(QUEUES, CFG, "gs://cx-models/routers/v3/", fallback_intent=INTENTS.classify, storage_client=fake)
    local = router(artefact)
    assert gcs.version == local.version and not gcs.version.startswith("fallback:")
    assert fake.requested == [("cx-models", "routers/v3/router.npz"), ("cx-models", "routers/v3/router.json")]
    assert gcs.route(*BILLING_DE, "").resolver_group == local.route(*BILLING_DE, "").resolver_group


def test_an_unreadable_cloud_storage_artefact_fails_loudly(caplog: pytest.LogCaptureFixture) -> None:
    from shared.decisions.router import ArtefactUnavailable

    denied = Router(
        QUEUES, CFG, "gs://cx-models/routers/v9", fallback_intent=INTENTS.classify, storage_client=FakeStorage({})
    )
    with caplog.at_level("ERROR"), pytest.raises(ArtefactUnavailable, match="Forbidden"):
        denied.load()
    assert any(r.levelname == "ERROR" and "router artefact" in r.getMessage() for r in caplog.records)
