"""The arm travels with the suggestion: response, Firestore document and suggestion.generated."""

from __future__ import annotations

from typing import Any

import pytest

from shared.engine.experiments import Experiments
from shared.runtime import Runtime
from tests.conftest import EventSink
from tests.integration.test_next_best_action import HAPPY_EN, client, nba_runtime, post  # noqa: F401

pytestmark = pytest.mark.integration


def test_nba_records_arm_and_version_of_the_contact(
    client: Any,  # noqa: F811
    nba_runtime: Runtime,  # noqa: F811
    event_sink: EventSink,
) -> None:
    exp = Experiments.load(nba_runtime.settings.config_dir / "engine/experiments.yaml").get("next_best_action")
    assert exp is not None
    tickets = {exp.arm(t): t for t in (f"TK-EXP{i}" for i in range(40))}  # one contact per arm
    bodies = {}
    for arm, ticket in tickets.items():
        body = post(client, {"customer_id": "C-1014", "ticket_id": ticket, "channel": "chat", "transcript": HAPPY_EN})
        assert body.status_code == 200, body.get_json()
        bodies[arm] = body.get_json()
        again = post(
            client, {"customer_id": "C-1014", "ticket_id": ticket, "channel": "chat", "transcript": HAPPY_EN}
        ).get_json()
        assert again["arm"] == arm  # the same contact stays in its arm
    assert bodies["control"]["prompt_version"] == f"next_best_action/{exp.control}"
    assert bodies["candidate"]["prompt_version"] == f"next_best_action/{exp.candidate}"
    for arm, body in bodies.items():
        assert body["arm"] == arm and body["experiment"] == exp.name
        doc = nba_runtime.firestore.collection("suggestions").document(body["suggestion_id"]).get().to_dict()
        assert (doc["arm"], doc["experiment"], doc["prompt_version"]) == (arm, exp.name, body["prompt_version"])
    nba_runtime.events.flush()
    ids = {b["suggestion_id"] for b in bodies.values()}
    events = event_sink.collect(
        2, lambda e: e.get("event_type") == "suggestion.generated" and e.get("suggestion_id") in ids
    )
    assert {(e["arm"], e["prompt_version"]) for e in events} == {(a, b["prompt_version"]) for a, b in bodies.items()}


def test_any_capability_runs_an_experiment_by_configuration_only(seeded: Any, tmp_path: Any) -> None:
    """An experiment on closing_message (v1 vs v2) needs only a config entry: each contact gets its arm."""
    import shutil

    from shared.runtime import set_default_runtime
    from shared.settings import ROOT, load_settings
    from tests.integration.test_next_steps import post as post_fn

    config = tmp_path / "config"
    shutil.copytree(ROOT / "config", config)
    (config / "engine/experiments.yaml").write_text(
        "experiments:\n  - {name: closing-test, capability: closing_message, control: v2, candidate: v1, share: 0.5}\n",
        "utf-8",
    )
    rt = Runtime(load_settings(model_backend="offline", config_dir=config))
    set_default_runtime(rt)
    try:
        exp = Experiments.load(config / "engine/experiments.yaml").get("closing_message")
        assert exp is not None
        tickets = {exp.arm(t): t for t in (f"TK-CL{i}" for i in range(40))}
        seen = {}
        for arm, ticket in tickets.items():
            body = post_fn(
                "closing_message", {"customer_id": "C-1001", "ticket_id": ticket, "channel": "chat", "actions": []}
            )
            assert body.status_code == 200, body.get_json()
            seen[arm] = body.get_json()
        assert {a: (b["arm"], b["experiment"], b["prompt_version"]) for a, b in seen.items()} == {
            "control": ("control", "closing-test", "closing_message/v2"),
            "candidate": ("candidate", "closing-test", "closing_message/v1"),
        }
    finally:
        rt.events.flush()
        set_default_runtime(None)
