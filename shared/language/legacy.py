"""Deprecated defaults for callers outside ``shared.language`` that are not yet handed their objects.

The language layer takes every path and config object from its caller (``shared.runtime`` builds
them from ``settings.config_dir``). Until the guardrails and the offline context summary are given
a splitter and an extractor, these helpers fall back to the repository's own ``config/`` — the only
place in the layer that knows where that is. Remove with the last caller.
"""

from __future__ import annotations

from pathlib import Path


def repo_config_dir() -> Path:
    """The repository's ``config/`` (ignores ``CX_CONFIG_DIR``; deprecated, see the module doc)."""
    from shared.settings import ROOT

    return ROOT / "config"
