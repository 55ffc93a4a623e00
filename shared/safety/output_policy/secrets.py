"""Secret-like strings (API keys, tokens, private keys, passwords in connection strings) in a
reply: detect-secrets' plugins (Yelp), run in-process on each sentence — no baseline file, no
network, no verification call. The pattern plugins run as shipped; the entropy plugins only on
long mixed-class tokens with a stricter limit than detect-secrets' defaults, because prose,
tracking and order numbers are not code."""

from __future__ import annotations

import re
import threading
from collections.abc import Mapping
from typing import Any

from shared.safety.output_policy.base import Check, Hit, PolicyContext, alt, merged

_lock = threading.Lock()
_plugins: tuple[Any, ...] | None = None
# pattern plugins, by detect-secrets class name (all shipped ones but the entropy, keyword and IP plugins)
PATTERN_PLUGINS = (
    "ArtifactoryDetector",
    "AWSKeyDetector",
    "AzureStorageKeyDetector",
    "BasicAuthDetector",
    "CloudantDetector",
    "DiscordBotTokenDetector",
    "GitHubTokenDetector",
    "GitLabTokenDetector",
    "IbmCloudIamDetector",
    "IbmCosHmacDetector",
    "JwtTokenDetector",
    "MailchimpDetector",
    "NpmDetector",
    "OpenAIDetector",
    "PrivateKeyDetector",
    "PypiTokenDetector",
    "SendGridDetector",
    "SlackDetector",
    "SoftlayerDetector",
    "SquareOAuthDetector",
    "StripeDetector",
    "TelegramBotTokenDetector",
    "TwilioKeyDetector",
)
_TOKEN = re.compile(r"[A-Za-z0-9+/=_\-.:]{20,}")


def _load() -> tuple[Any, ...]:
    global _plugins
    with _lock:
        if _plugins is None:
            from detect_secrets.core.plugins.util import get_mapping_from_secret_type_to_class

            classes: list[Any] = list(get_mapping_from_secret_type_to_class().values())
            by_name: dict[str, Any] = {cls.__name__: cls for cls in classes}
            _plugins = tuple(by_name[n]() for n in PATTERN_PLUGINS if n in by_name)
        return _plugins


class SecretCheck(Check):
    name = "secrets"

    def __init__(self, raw: Mapping[str, Any]) -> None:
        cfg = raw.get("secrets", {})
        self.entropy_limit = float(cfg.get("entropy_limit", 4.0))
        self.min_classes = int(cfg.get("min_char_classes", 3))
        labels = merged(cfg.get("labels", {}))
        # "password: Kx!7vQ2m", "Passwort lautet Xk9#mP2q": a secret's label, then a password-shaped value
        self._labelled = (
            re.compile(
                r"(?<!\w)(?:" + alt(labels) + r")(?!\w)\s*(?:[:=]|\w{2,7}\s*:?)?\s*[\"'`]?"
                r"(\S{6,64})",
                re.IGNORECASE,
            )
            if labels
            else None
        )

    def sentence(self, s: str, plain: str, ctx: PolicyContext) -> list[Hit]:
        for plugin in _load():
            found = plugin.analyze_line(filename="reply.txt", line=s, line_number=0)
            if found:
                return [Hit("secret", s, next(iter(found)).type)]
        if self._labelled:
            for m in self._labelled.finditer(plain):
                value = m.group(1).rstrip(".,;:!?)\"'`")
                classes = sum(bool(re.search(p, value)) for p in ("[a-z]", "[A-Z]", "[0-9]", r"[^\w\s]"))
                if len(value) >= 6 and classes >= self.min_classes and re.search(r"[0-9]", value):
                    return [Hit("secret", s, "labelled secret value")]
        for m in _TOKEN.finditer(plain):
            token = m.group().strip(".:-")
            if "@" in token or "://" in token or len(token) < 20:
                continue
            classes = sum(bool(re.search(p, token)) for p in ("[a-z]", "[A-Z]", "[0-9]", r"[+/=_\-]"))
            # a digit is required: hyphenated compounds ("Investment-Modellierungs-Ausgaben") are prose
            if classes >= self.min_classes and re.search(r"[0-9]", token) and _entropy(token) >= self.entropy_limit:
                return [Hit("secret", s, "high-entropy string")]
        return []


def _entropy(token: str) -> float:
    from detect_secrets.plugins.high_entropy_strings import Base64HighEntropyString

    return float(Base64HighEntropyString().calculate_shannon_entropy(token))
