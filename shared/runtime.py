"""Everything a capability needs, built once per instance and injectable in tests."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property, lru_cache
from typing import TYPE_CHECKING, Any

import yaml

from shared.data.kb import Embedder, HashEmbedder, KbRepository, VertexEmbedder
from shared.data.offers import OfferRepository
from shared.data.snapshots import SnapshotRepository
from shared.decisions.nba import Rules
from shared.decisions.queues import QueueCatalogue
from shared.engine.base import Engine, ModelFailure
from shared.engine.model import build_engine
from shared.engine.offline import OfflineEngine
from shared.engine.prompts import Prompt, PromptLibrary
from shared.language.duedates import DueDateResolver
from shared.language.intents import IntentClassifier, IntentDetector
from shared.language.nlp import SentenceSplitter
from shared.language.sentiment import SentimentScorer
from shared.platform import clients, logs
from shared.platform.events import EventPublisher, FirestoreOutbox, register_for_shutdown
from shared.platform.identity import Authenticator
from shared.safety.access import AccessPolicy, CustomerAccess
from shared.safety.context_policy import ContextPolicy
from shared.safety.guardrails import Guardrails
from shared.safety.pii.base import PiiConfig, PiiDetector
from shared.settings import Settings, SettingsError, get_settings

if TYPE_CHECKING:
    from shared.safety.output_policy.policy import OutputPolicy
    from shared.safety.pii.local import LocalDetector
    from shared.safety.prepared_context import PreparedContexts
    from shared.safety.sentence_model import SentenceModel


# The offline engine's generators, one per capability that calls a model: the explicit table (no
# registration on import). Each is imported on first use, so an instance imports only its own.
OFFLINE_GENERATORS: dict[str, str] = {
    "context_summary": "shared.capabilities.context_summary:offline_summary",
    "reply_draft": "shared.capabilities.reply_draft:offline_reply",
    "next_best_action": "shared.capabilities.next_best_action:offline_nba",
    "next_steps": "shared.capabilities.next_steps:offline_next_steps",
    "closing_message": "shared.capabilities.closing_message:offline_closing",
}


def offline_engine() -> OfflineEngine:
    """The deterministic engine with the project's generators (also what tests and tools use)."""
    return OfflineEngine(OFFLINE_GENERATORS)


def _log_model_failure(prompt: Prompt, failure: ModelFailure) -> None:
    logs.get_logger("model").warning(
        "model call failed; answering offline",
        extra={
            "fields": {
                "capability": prompt.capability,
                "reason": failure.reason,
                "detail": failure.detail,
                "prompt_version": prompt.version_id,
            }
        },
    )


@dataclass
class Runtime:
    """Lazily built dependencies; pass a subset explicitly to override (tests, tools)."""

    settings: Settings

    def __post_init__(self) -> None:
        # Config and prompt files are checked against each other once per instance, at
        # start: a change the code cannot serve fails here, naming the file and the key.
        from shared.engine.config_check import validate

        validate(self.settings)

    @cached_property
    def firestore(self):  # type: ignore[no-untyped-def]
        return clients.firestore_client(self.settings)

    @cached_property
    def snapshots(self) -> SnapshotRepository:
        return SnapshotRepository(
            self.firestore, self.settings.customers_collection, self.settings.customer_stats_shards, self.retention
        )

    @cached_property
    def prepared_contexts(self) -> PreparedContexts | None:
        """Customer contexts masked when the snapshot is written (None with ``CX_PREPARED_CONTEXT=false``)."""
        if not self.settings.prepared_context:
            return None
        from shared.safety.prepared_context import PreparedContexts

        s = self.settings
        rule = self.retention.firestore.get("interactions")
        return PreparedContexts(
            self.snapshots,
            self.pii_detector,
            token_budget=s.context_token_budget,
            snapshot_limit=s.snapshot_limit,
            pii_backend=s.pii_backend,
            pseudonym_key=s.pseudonym_key,
            interaction_days=rule.days if rule else None,
        )

    @cached_property
    def snapshot_sync(self):  # type: ignore[no-untyped-def]
        from shared.data.sync import SnapshotSync

        s = self.settings
        return SnapshotSync(self.firestore, s.customers_collection, s.sync_tombstones_collection, self.retention)

    @cached_property
    def retention(self):  # type: ignore[no-untyped-def]
        from shared.data.retention import Retention

        return Retention.load(self.settings.config_dir / "data/retention.yaml")

    @cached_property
    def engine(self) -> Engine:
        return build_engine(self.settings, self.offline, log=_log_model_failure)

    @cached_property
    def offline(self) -> OfflineEngine:
        """The deterministic engine: the fallback, and for overrides when a model answer breaks a rule."""
        return offline_engine()

    @cached_property
    def prompts(self) -> PromptLibrary:
        from shared.engine.experiments import Experiments

        experiments = Experiments.load(self.settings.config_dir / "engine/experiments.yaml", self.settings.prompts_dir)
        return PromptLibrary(self.settings.prompts_dir, self.settings.prompt_versions, experiments)

    @cached_property
    def context_policy(self) -> ContextPolicy:
        return ContextPolicy.load(self.settings.config_dir / "safety/context_policy.yaml")

    @cached_property
    def access_policy(self) -> AccessPolicy:
        return AccessPolicy.load(self.settings.config_dir / "safety/access.yaml")

    @cached_property
    def authenticator(self) -> Authenticator:
        """Token verification (IAP, platform, local issuer) with roles from config/safety/access.yaml."""
        return Authenticator(self.settings, self.access_policy)

    @cached_property
    def customer_access(self) -> CustomerAccess:
        """The one door to customer snapshots: authorization, data-access policy and audit events."""
        return CustomerAccess(self.access_policy, self.context_policy, self.events.publish, self.settings.pseudonym_key)

    @cached_property
    def offers(self) -> OfferRepository:
        s = self.settings
        return OfferRepository(
            self.firestore,
            offers=s.offers_collection,
            stats=s.offer_stats_collection,
            customers=s.customers_collection,
            ttl_s=s.offers_cache_ttl_s,
        )

    @cached_property
    def nba_rules(self) -> Rules:
        return Rules.load(self.settings.config_dir / "decisions/nba_rules.yaml")

    @cached_property
    def sentiment(self) -> SentimentScorer:
        return SentimentScorer(self.settings.config_dir / "language/sentiment_lexicon.yaml")

    @cached_property
    def intents(self) -> IntentDetector:
        return IntentDetector(self.settings.config_dir / "language/intents.yaml")

    @cached_property
    def pii_local(self) -> LocalDetector:
        """The local PII recognisers (config/safety/pii.yaml); Presidio and the NER model load on first use."""
        from shared.safety.pii.local import LocalDetector

        return LocalDetector(PiiConfig.load(self.settings.config_dir / "safety/pii.yaml"))

    @cached_property
    def pii_detector(self) -> PiiDetector:
        """The masking backend chosen by ``CX_PII_BACKEND``: local, or Sensitive Data Protection plus local patterns."""
        if self.settings.pii_backend == "local":
            return self.pii_local
        from shared.safety.pii.dlp import DlpDetector

        return DlpDetector(self.pii_local, self.settings.gcp_project_or_local, location=self.settings.pii_dlp_location)

    @cached_property
    def guardrails(self) -> Guardrails:
        # identifiers in a reply are found by the local patterns: no cloud call per sentence
        # amounts and deadlines are grounded against the company's service levels (the queues' SLAs)
        return Guardrails(
            self.settings.config_dir / "safety/guardrails.yaml",
            sentences=self.splitter.split,
            detector=self.pii_local,
            due_dates=self.due_dates,
            service_levels=[g.sla_business_days for g in self.queues.groups if g.sla_business_days],
        )

    @cached_property
    def output_policy(self) -> OutputPolicy:
        """The reply output policy; its check modules are imported here, by reply_draft's first draft."""
        from shared.safety.output_policy.acts_meaning import ActsByMeaning
        from shared.safety.output_policy.policy import OutputPolicy

        return OutputPolicy(
            self.settings.config_dir / "safety/output_policy.yaml",
            tuple(self.settings.detect_languages),
            sentences=self.splitter.split,
            meaning=ActsByMeaning.from_file(self.settings.config_dir / "safety/acts.yaml", self.sentence_model),
        )

    @cached_property
    def sentence_model(self) -> SentenceModel:
        """Static sentence embeddings (wordllama, weights in the wheel); the model loads on first embed."""
        from shared.safety.sentence_model import SentenceModel

        return SentenceModel()

    @cached_property
    def reply_intents(self) -> IntentClassifier:
        d = self.settings.config_dir
        return IntentClassifier(d / "language/intents.yaml", d / "language/intent_examples.yaml")

    @cached_property
    def policy_snippets(self) -> dict[str, dict[str, str]]:
        raw = yaml.safe_load((self.settings.config_dir / "engine/policy_snippets.yaml").read_text("utf-8"))
        return dict(raw["policies"])

    @cached_property
    def kb(self) -> KbRepository:
        return KbRepository(self.firestore, self.settings.kb_collection)

    @cached_property
    def embedder(self) -> Embedder:
        """Vertex embeddings with the Vertex engine; the local hashing embedder otherwise."""
        if self.settings.backend == "vertex":
            from shared.engine.vertex import genai_client

            client = genai_client(self.settings)
            return VertexEmbedder(client, self.settings.embedding_model, self.settings.embedding_dim)
        return HashEmbedder(self.settings.local_embedding_dim)

    @cached_property
    def queues(self) -> QueueCatalogue:
        return QueueCatalogue.load(self.settings.config_dir / "decisions/queues.yaml")

    @cached_property
    def router(self):  # type: ignore[no-untyped-def]
        """Resolver-group routing; the trained artefact is read on the first ticket routed."""
        from shared.decisions.router import Router, RoutingConfig

        intents = self.reply_intents
        return Router(
            catalogue=self.queues,
            config=RoutingConfig.load(self.settings.config_dir / "decisions/routing.yaml"),
            artefact=self.settings.router_artefact,
            fallback_intent=intents.classify,
            fallback_version=f"intents-{intents.version}",
        )

    @cached_property
    def lexicons(self):  # type: ignore[no-untyped-def]
        """One lexicon per language (month and weekday names, abbreviations, stop words)."""
        from shared.language.lexicon import load_lexicons

        return load_lexicons(self.settings.config_dir / "language" / "lexicon")

    @cached_property
    def splitter(self):  # type: ignore[no-untyped-def]
        """Rule-based sentence splitter (no spaCy) with every language's abbreviations and month names."""

        return SentenceSplitter.from_lexicons(self.lexicons)

    @cached_property
    def extractor(self):  # type: ignore[no-untyped-def]
        """Structural next-step extractor and extractive summarizer; spaCy loads on first use."""
        from shared.language.extraction import Extractor

        return Extractor(
            self.settings.config_dir / "language/extraction.yaml", lexicons=self.lexicons, splitter=self.splitter
        )

    @cached_property
    def next_steps_store(self):  # type: ignore[no-untyped-def]
        from shared.data.next_steps import NextStepsStore

        return NextStepsStore(
            self.firestore,
            self.settings.next_steps_collection,
            self.settings.customers_collection,
            retention=self.retention,
        )

    @cached_property
    def commitments(self):  # type: ignore[no-untyped-def]
        """Promises kept: commitments from confirmed next steps (shared/decisions/commitments.py)."""
        from shared.data.commitments import CommitmentRepository
        from shared.decisions.commitments import CommitmentService, Texts

        s = self.settings
        repo = CommitmentRepository(self.firestore, s.commitments_collection, s.customers_collection)
        return CommitmentService(
            repo, self.events, Texts.load(s.config_dir / "decisions/commitments.yaml"), s.pseudonym_key
        )

    @cached_property
    def feedback_buckets(self):  # type: ignore[no-untyped-def]
        from shared.capabilities.feedback import Buckets

        return Buckets.load(self.settings.config_dir / "capabilities/feedback.yaml")

    @cached_property
    def due_dates(self) -> DueDateResolver:
        return DueDateResolver(self.settings.config_dir / "language/due_phrases.yaml", self.lexicons)

    @cached_property
    def publisher(self):  # type: ignore[no-untyped-def]
        return clients.publisher_client(self.settings)

    def extract_next_steps(self, request: dict[str, Any]) -> Any:
        """next_steps for a capability that needs one (ticket_closed): capabilities never import each other."""
        from shared.capabilities.next_steps import NextStepsRequest, extract

        return extract(NextStepsRequest.model_validate(request), self)

    @property
    def dead_letter_topic(self) -> str:
        return f"projects/{self.settings.gcp_project_or_local}/topics/{self.settings.ticket_closed_dlq_topic}"

    @cached_property
    def outbox(self) -> FirestoreOutbox:
        return FirestoreOutbox(
            self.firestore,
            self.settings.outbox_collection,
            retention_days=self.retention.firestore["event_outbox"].days,
        )

    @cached_property
    def privacy(self):  # type: ignore[no-untyped-def]
        from shared.data.privacy import PrivacyStore

        s = self.settings
        return PrivacyStore(
            self.firestore,
            customers=s.customers_collection,
            suggestions=s.suggestions_collection,
            next_steps=s.next_steps_collection,
            feedback=s.feedback_collection,
            outbox=s.outbox_collection,
            tombstones=s.sync_tombstones_collection,
            commitments=s.commitments_collection,
        )

    @cached_property
    def warehouse(self):  # type: ignore[no-untyped-def]
        """BigQuery when a project is configured; none locally (tools pass the local DuckDB warehouse)."""
        if not self.settings.project:
            return None
        import google.auth
        from google.auth.transport.requests import AuthorizedSession

        from shared.data.privacy import BigQueryWarehouse

        credentials, _ = google.auth.default(scopes=["https://www.googleapis.com/auth/bigquery"])
        return BigQueryWarehouse(AuthorizedSession(credentials), self.settings.project, self.settings.warehouse_dataset)

    @property
    def sync_dead_letter_topic(self) -> str:
        return f"projects/{self.settings.gcp_project_or_local}/topics/{self.settings.snapshot_sync_dlq_topic}"

    @cached_property
    def events(self) -> EventPublisher:
        publisher = EventPublisher(
            clients.publisher_client(self.settings),
            self.settings.gcp_project_or_local,
            self.settings.events_topic,
            outbox=self.outbox,
            publish_timeout_s=self.settings.events_publish_timeout_s,
        )
        return register_for_shutdown(publisher)


_default: Runtime | None = None


@lru_cache(maxsize=1)
def startup_settings() -> Settings:
    """Settings for a deployed instance, with the config and prompt files checked against each other
    once, at start: a change the code cannot serve fails here with one message naming file and key."""
    from shared.engine.config_check import ConfigError, validate

    settings = get_settings()
    try:
        validate(settings)
    except ConfigError as exc:
        raise SettingsError(str(exc)) from None
    if settings.pii_backend == "dlp":
        from shared.safety.pii.dlp import DlpDetector
        from shared.safety.pii.local import LocalDetector

        local = LocalDetector(PiiConfig.load(settings.config_dir / "safety/pii.yaml"))  # models load on first use only
        verify_pii_backend(DlpDetector(local, settings.gcp_project_or_local, location=settings.pii_dlp_location))
    return settings


def verify_pii_backend(detector: Any) -> None:
    """CX_PII_BACKEND=dlp: one DLP call at start; a denied call stops the instance (SettingsError) instead
    of masking locally for ever without anyone noticing."""
    from shared.safety.pii.dlp import DlpUnavailable

    try:
        detector.probe()
    except DlpUnavailable as exc:
        raise SettingsError(str(exc)) from None


def default_runtime() -> Runtime:
    global _default
    if _default is None:
        _default = Runtime(startup_settings())
    return _default


def authenticator() -> Authenticator:
    """The instance's authenticator, for the HTTP entry points (``endpoint(..., authenticator=...)``)."""
    return default_runtime().authenticator


def set_default_runtime(runtime: Runtime | None) -> None:
    """Install a runtime for the entry points (tests, the local stack)."""
    global _default
    _default = runtime
