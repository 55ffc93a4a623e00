"""Knowledge articles in Firestore with embeddings, retrieved by Firestore vector search.

Two embedders behind one interface: Vertex AI text embeddings in the cloud, and a local
feature-hashing embedder offline (deterministic, no model download, nothing to install),
good enough to find the right procedure by its words. Each embedder writes its own
vector field (``emb_<name>``), so switching never mixes incompatible vectors.
"""

from __future__ import annotations

import hashlib
import math
import re
from typing import TYPE_CHECKING, Any, Protocol

from pydantic import BaseModel, ConfigDict, Field

if TYPE_CHECKING:
    from google.cloud import firestore

_WORD = re.compile(r"[^\W\d_]{2,}", re.UNICODE)
STOPWORDS = frozenset(
    """the a an and or to of in on for is are be it this that with my your our you we i me can will
    der die das und oder zu von im in auf für ist sind ein eine es mit mein meine ihr ihre wir ich sie""".split()  # noqa: SIM905
)


class Article(BaseModel):
    model_config = ConfigDict(extra="ignore")

    kb_id: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
    title: str
    body: str
    language: str = "en"
    tags: list[str] = Field(default_factory=list)
    source: str = "kb"


class Embedder(Protocol):
    name: str

    def embed(self, texts: list[str], *, query: bool) -> list[list[float]]: ...


class HashEmbedder:
    """Signed feature hashing of words, 5-letter stems and word pairs; L2-normalised."""

    def __init__(self, dim: int = 1024) -> None:
        self.dim = dim
        self.name = f"hash{dim}"

    def _features(self, text: str) -> list[str]:
        words = [w.lower() for w in _WORD.findall(text) if w.lower() not in STOPWORDS]
        stems = [w[:5] for w in words if len(w) > 5]
        return words + stems + [f"{a}_{b}" for a, b in zip(words, words[1:], strict=False)]

    def embed(self, texts: list[str], *, query: bool) -> list[list[float]]:
        vectors = []
        for text in texts:
            v = [0.0] * self.dim
            for feat in self._features(text):
                h = int.from_bytes(hashlib.blake2b(feat.encode(), digest_size=8).digest(), "big")
                v[h % self.dim] += 1.0 if (h >> 32) & 1 else -1.0
            norm = math.sqrt(sum(x * x for x in v)) or 1.0
            vectors.append([x / norm for x in v])
        return vectors


class VertexEmbedder:
    """Vertex AI text embeddings through google-genai (multilingual model by default)."""

    def __init__(self, client: Any, model: str, dim: int) -> None:
        self._client = client
        self._model = model
        self.dim = dim
        self.name = re.sub(r"[^a-z0-9]", "", model.lower())[:40] + str(dim)

    def embed(self, texts: list[str], *, query: bool) -> list[list[float]]:
        from google.genai import types

        config = types.EmbedContentConfig(
            task_type="RETRIEVAL_QUERY" if query else "RETRIEVAL_DOCUMENT", output_dimensionality=self.dim
        )
        result = self._client.models.embed_content(model=self._model, contents=texts, config=config)
        return [list(e.values) for e in result.embeddings]


class KbRepository:
    def __init__(self, client: firestore.Client, collection: str = "kb_articles") -> None:
        self._db = client
        self._col = client.collection(collection)

    def put(self, articles: list[Article], embedder: Embedder, batch_size: int = 100) -> int:
        from google.cloud.firestore_v1.vector import Vector

        for start in range(0, len(articles), batch_size):
            chunk = articles[start : start + batch_size]
            vectors = embedder.embed([f"{a.title}\n{a.body}" for a in chunk], query=False)
            batch = self._db.batch()
            for article, vector in zip(chunk, vectors, strict=True):
                doc = article.model_dump() | {f"emb_{embedder.name}": Vector(vector)}
                batch.set(self._col.document(article.kb_id), doc, merge=True)
            batch.commit()
        return len(articles)

    def search(self, text: str, embedder: Embedder, k: int = 3) -> list[tuple[Article, float]]:
        """Nearest articles by cosine distance (Firestore ``find_nearest``)."""
        from google.cloud.firestore_v1.base_vector_query import DistanceMeasure
        from google.cloud.firestore_v1.vector import Vector

        (vector,) = embedder.embed([text], query=True)
        query = self._col.find_nearest(
            vector_field=f"emb_{embedder.name}",
            query_vector=Vector(vector),
            distance_measure=DistanceMeasure.COSINE,
            limit=k,
            distance_result_field="distance",
        )
        return [(Article.model_validate(d.to_dict()), float(d.get("distance"))) for d in query.stream()]


def abcd_articles(guidelines: dict[str, Any]) -> list[Article]:
    """ABCD ``guidelines.json`` (flows → subflows → steps) as one article per subflow."""
    articles = []
    for flow, spec in guidelines.items():
        for subflow, sub in spec.get("subflows", {}).items():
            steps = [a.get("text", "") + " " + " ".join(a.get("subtext", [])) for a in sub.get("actions", [])]
            slug = re.sub(r"[^a-z0-9]+", "-", f"{flow}-{subflow}".lower()).strip("-")
            intro = sub.get("instructions") or spec.get("description", "")
            intro = " ".join(intro) if isinstance(intro, list) else str(intro)
            articles.append(
                Article(
                    kb_id=f"abcd-{slug}",
                    title=f"{flow}: {subflow}",
                    body=intro + "\n" + "\n".join(steps),
                    tags=[flow],
                    source="abcd",
                )
            )
    return articles
