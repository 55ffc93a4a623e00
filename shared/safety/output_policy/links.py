"""Links in a reply: only allowlisted registered domains and their subdomains.

Public-suffix aware (tldextract with its bundled snapshot, never fetched), any scheme or none,
any TLD, defanged forms; link shorteners, open redirects on allowed domains and IDN or
confusable-letter lookalikes of an allowed domain are named as such.
"""

from __future__ import annotations

import contextlib
import ipaddress
import re
import unicodedata
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from shared.safety.output_policy.base import (
    EMAIL,
    HOST,
    SCHEME_URL,
    TRAIL,
    Check,
    Hit,
    PolicyContext,
    defanged,
    extract,
)

_CONFUSABLE = str.maketrans(
    {
        "а": "a",
        "е": "e",
        "о": "o",
        "р": "p",
        "с": "c",
        "у": "y",
        "х": "x",
        "і": "i",
        "ј": "j",
        "ԁ": "d",
        "ɡ": "g",
        "ο": "o",
        "α": "a",
        "ε": "e",
        "ν": "v",
        "τ": "t",
        "0": "o",
        "1": "l",
        "3": "e",
        "5": "s",
        "7": "t",
        "ı": "i",
    }
)


class LinkCheck(Check):
    name = "links"

    def __init__(self, raw: Mapping[str, Any]) -> None:
        links = raw["links"]
        self.allowed_domains = {d.lower() for d in links["allowed_domains"]}
        self.shorteners = {d.lower() for d in links["shorteners"]}
        self.redirect_params = {p.lower() for p in links["redirect_params"]}
        self.lookalike_distance = int(links["lookalike_max_distance"])

    def sentence(self, s: str, plain: str, ctx: PolicyContext) -> list[Hit]:
        rest = EMAIL.sub(" ", defanged(plain))
        urls = [(u.rstrip(TRAIL), True) for u in SCHEME_URL.findall(rest)]
        rest = SCHEME_URL.sub(" ", rest)
        urls += [(u.rstrip(TRAIL), False) for u in HOST.findall(rest)]
        hits = []
        for url, explicit in urls:
            hit = self._link(url, explicit)
            if hit:
                hits.append(Hit(hit[0], s, hit[1]))
        return hits

    def _link(self, url: str, explicit: bool) -> tuple[str, str] | None:
        candidate = url if "://" in url else "http://" + url
        try:
            parts = urlsplit(candidate)
            host = (parts.hostname or "").rstrip(".")
        except ValueError:
            return ("unapproved_link", url) if explicit else None
        if not host:
            return ("unapproved_link", url) if explicit else None
        if "@" in parts.netloc:
            return ("link_userinfo", url)
        try:
            ipaddress.ip_address(host.strip("[]"))
            return ("unapproved_link", url)
        except ValueError:
            pass
        ext = extract()(host)
        if not ext.suffix or not ext.domain:
            return ("unapproved_link", url) if explicit else None
        if (
            not explicit
            and "/" not in url
            and not url.lower().startswith("www.")
            and (url.isupper() or re.search(r"[a-z]\.[A-Z][a-z]*$", url))
        ):
            return None  # "ASP.NET" is a product name, "done.It" a missing space: neither is a link
        registered = f"{ext.domain}.{ext.suffix}".lower()
        ascii_host = _idna(host)
        if registered in self.shorteners:
            return ("link_shortener", url)
        if registered in self.allowed_domains and ascii_host == host.lower() and "xn--" not in ascii_host:
            return self._redirect(parts, url)
        if self._lookalike(ext.domain, registered, ascii_host):
            return ("lookalike_domain", url)
        return ("unapproved_link", url)

    def _redirect(self, parts: Any, url: str) -> tuple[str, str] | None:
        query = unquote(unquote(parts.query))
        for key, value in parse_qsl(query, keep_blank_values=True):
            if key.lower() in self.redirect_params:
                return ("open_redirect", url)
            if self._mentions_host(value):
                return ("open_redirect", url)
        path = unquote(unquote(parts.path + "#" + parts.fragment))
        if "//" in path.lstrip("/") or re.search(r"https?:", path, re.IGNORECASE):
            return ("open_redirect", url)
        for seg in re.split(r"[/#&=]", path):
            if "." in seg and self._mentions_host(seg) and not re.search(r"\.(?:html?|pdf|php|aspx?|jsp)$", seg):
                return ("open_redirect", url)
        return None

    def _mentions_host(self, value: str) -> bool:
        if "://" in value or value.startswith("//") or "@" in value:
            return True
        for token in re.findall(r"[\w.-]+\.[\w-]{2,}", value):
            ext = extract()(token)
            if ext.suffix and ext.domain and f"{ext.domain}.{ext.suffix}".lower() not in self.allowed_domains:
                return True
        return False

    def _lookalike(self, label: str, registered: str, ascii_host: str) -> bool:
        from rapidfuzz.distance import Levenshtein

        skeleton = _skeleton(label)
        for allowed in self.allowed_domains:
            brand = _skeleton(allowed.split(".")[0])
            if "xn--" in ascii_host or any(ord(c) > 127 for c in registered):
                if Levenshtein.distance(skeleton, brand) <= self.lookalike_distance or brand in skeleton:
                    return True
            elif skeleton != brand and Levenshtein.distance(skeleton, brand) <= self.lookalike_distance:
                return True
            elif skeleton == brand and registered != allowed:
                return True  # same brand, other TLD (example-telco.net)
        return False


def _idna(host: str) -> str:
    try:
        return host.encode("idna").decode("ascii").lower()
    except UnicodeError:
        return host.lower()


def _skeleton(label: str) -> str:
    if "xn--" in label:
        with contextlib.suppress(UnicodeError):
            label = label.encode("ascii").decode("idna")
    folded = unicodedata.normalize("NFKD", label.lower()).translate(_CONFUSABLE)
    folded = "".join(c for c in folded if not unicodedata.combining(c))
    return folded.replace("rn", "m").replace("vv", "w").replace("-", "").replace("_", "")
