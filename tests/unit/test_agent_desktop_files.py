"""The agent desktop's static files: labels complete in both languages, samples valid, export."""

from __future__ import annotations

import json
import re

import yaml

from scripts.devstack import WEB_ROOT, export_web
from shared.language.conversation import Turn
from shared.settings import ROOT


def _labels(lang: str) -> dict[str, str]:
    return json.loads((WEB_ROOT / "i18n" / f"{lang}.json").read_text("utf-8"))


def test_german_and_english_have_the_same_labels() -> None:
    en, de = _labels("en"), _labels("de")
    assert set(en) == set(de)
    assert all(v.strip() for v in [*en.values(), *de.values()])


def test_every_literal_label_the_code_uses_exists() -> None:
    en = _labels("en")
    used = set()
    for path in WEB_ROOT.rglob("*.js"):
        used |= set(re.findall(r"""\bt\(\s*["']([\w.:]*\w)["']""", path.read_text("utf-8")))  # not "prefix." + x
    assert used and not used - set(en), sorted(used - set(en))


def test_owners_and_channels_have_labels() -> None:
    """Flags and suppression rules without a label show their code; owners and channels must be named."""
    en = _labels("en")
    assert all(f"owner.{o}" in en for o in ("agent", "customer", "backoffice"))
    assert all(f"channel.{c}" in en for c in ("chat", "email", "phone"))


def test_samples_are_valid_contacts_of_seeded_customers() -> None:
    from scripts.seed import SEEDS

    index = json.loads((WEB_ROOT / "samples" / "index.json").read_text("utf-8"))
    seeded = {s.customer_id for s in SEEDS}
    assert {c["customer_id"] for c in index["customers"]} <= seeded
    assert {c["channel"] for c in index["contacts"]} == {"chat", "email", "phone"}
    for entry in index["contacts"]:
        contact = json.loads((WEB_ROOT / "samples" / entry["file"]).read_text("utf-8"))
        assert contact["customer_id"] == entry["customer_id"] and contact["channel"] == entry["channel"]
        assert contact["ticket_id"].startswith("T-" + entry["customer_id"][2:])
        turns = [Turn.model_validate(t) for t in contact["transcript"]]
        assert any(t.speaker == "customer" for t in turns)
        assert set(entry["title"]) == {"en", "de"}


def test_export_writes_the_catalogue_and_the_functions_base(tmp_path) -> None:
    out = export_web(tmp_path / "site", "https://europe-west1-demo.cloudfunctions.net/")
    queues = json.loads((out / "queues.json").read_text("utf-8"))
    catalogue = yaml.safe_load((ROOT / "config" / "decisions/queues.yaml").read_text("utf-8"))
    assert [g["label"] for g in queues["groups"]] == [g["label"] for g in catalogue["groups"]]
    assert json.loads((out / "config.json").read_text("utf-8"))["functionsBase"].startswith("https://europe-west1")
    assert (out / "index.html").is_file() and (out / "panels" / "nextsteps.js").is_file()
