"""Load knowledge articles into Firestore with embeddings (the configured embedder).

    python -m scripts.kb_ingest scripts/seed_data/kb_articles.yaml
    python -m scripts.kb_ingest ../shared/data/abcd/guidelines.json   # ABCD format, detected

The data is read from the path given; nothing is copied into the repository.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import yaml

from shared.data.kb import Article, abcd_articles
from shared.settings import load_settings


def load_articles(path: Path) -> list[Article]:
    raw = json.loads(path.read_text("utf-8")) if path.suffix == ".json" else yaml.safe_load(path.read_text("utf-8"))
    if isinstance(raw, dict) and "articles" in raw:
        return [Article.model_validate(a) for a in raw["articles"]]
    if isinstance(raw, list):
        return [Article.model_validate(a) for a in raw]
    if isinstance(raw, dict) and all(isinstance(v, dict) and "subflows" in v for v in raw.values()):
        return abcd_articles(raw)
    raise ValueError(f"{path}: not a list of articles, {{articles: [...]}}, or ABCD guidelines")


def main(argv: list[str] | None = None) -> int:
    from shared.runtime import Runtime

    args = argv if argv is not None else sys.argv[1:]
    if len(args) != 1:
        print(__doc__)
        return 2
    rt = Runtime(load_settings())
    articles = load_articles(Path(args[0]))
    count = rt.kb.put(articles, rt.embedder)
    print(f"ingested {count} articles with embedder {rt.embedder.name} into {rt.settings.kb_collection}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
