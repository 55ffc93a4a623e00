"""Runtime(settings) builds the safety layer: its config directory, its PII backend.

The sentence splitter of the guardrails and the output policy and the PII recognisers come
from the runtime's ``config_dir`` (CX_CONFIG_DIR), not from the repository's own config/.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from shared.runtime import Runtime
from shared.safety.pii.base import Pseudonymizer
from shared.settings import ROOT, load_settings

REPLY = "Your plan is called Flex. Visit bit.ly/x and we will refund you today."
IBAN = "Please refund to DE89 3704 0044 0532 0130 00 today."


@pytest.fixture
def relocated(tmp_path: Path) -> Runtime:
    """A copy of config/ where "Flex." is an abbreviation and the IBAN recogniser is off."""
    config = tmp_path / "config"
    shutil.copytree(ROOT / "config", config)
    lexicon = yaml.safe_load((config / "language" / "lexicon" / "en.yaml").read_text("utf-8"))
    lexicon["abbreviations"].append("flex")
    (config / "language" / "lexicon" / "en.yaml").write_text(yaml.safe_dump(lexicon, allow_unicode=True), "utf-8")
    pii = yaml.safe_load((config / "safety/pii.yaml").read_text("utf-8"))
    pii["recognizers"] = [r for r in pii["recognizers"] if r != "iban"]
    (config / "safety/pii.yaml").write_text(yaml.safe_dump(pii, allow_unicode=True), "utf-8")
    return Runtime(load_settings(model_backend="offline", config_dir=config))


@pytest.fixture(scope="module")
def default() -> Runtime:
    return Runtime(load_settings(model_backend="offline", config_dir=ROOT / "config"))


def _sentences(reasons: list) -> set[tuple[str, str | None]]:
    return {(r.code, r.sentence) for r in reasons}


def test_checks_split_sentences_with_the_runtimes_config(default: Runtime, relocated: Runtime) -> None:
    whole = "Visit bit.ly/x and we will refund you today."
    for rt, sentence in ((default, whole), (relocated, REPLY)):
        approved = rt.output_policy.approved_from([], [], 20)
        assert ("violation:link_shortener", sentence) in _sentences(
            rt.output_policy.check(REPLY, language="en", approved=approved)
        )
        assert ("commitment:refund", sentence) in _sentences(rt.guardrails.review_reasons("", REPLY, "en", "standard"))


def test_pii_masking_follows_the_runtimes_config(default: Runtime, relocated: Runtime) -> None:
    assert Pseudonymizer(default.pii_detector).mask(IBAN) == "Please refund to [IBAN_1] today."
    assert Pseudonymizer(relocated.pii_detector).mask(IBAN) == IBAN  # recogniser switched off in its pii.yaml
    assert [r.detail for r in default.guardrails.violations(IBAN, message="", own_values=set(), system_prompt="")] == [
        "IBAN"
    ]
    assert relocated.guardrails.violations(IBAN, message="", own_values=set(), system_prompt="") == []


def test_pii_backend_is_chosen_by_the_settings() -> None:
    from shared.safety.pii.dlp import DlpDetector
    from shared.safety.pii.local import LocalDetector

    local = Runtime(load_settings(model_backend="offline", pii_backend="local"))
    assert isinstance(local.pii_detector, LocalDetector)
    dlp = Runtime(load_settings(model_backend="offline", pii_backend="dlp", project="p-1"))
    assert isinstance(dlp.pii_detector, DlpDetector)  # no client is created before the first call
    assert dlp.guardrails._detector is dlp.pii_local  # reply checks use local patterns: no cloud call per sentence


def test_unknown_recognizer_names_fail_at_build(tmp_path: Path) -> None:
    from shared.safety.pii.base import PiiConfig
    from shared.safety.pii.local import LocalDetector

    raw = yaml.safe_load((ROOT / "config" / "safety/pii.yaml").read_text("utf-8"))
    raw["recognizers"].append("shoe_size")
    with pytest.raises(ValueError, match="shoe_size"):
        LocalDetector(PiiConfig.model_validate(raw))
