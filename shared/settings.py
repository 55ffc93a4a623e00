"""One settings object for every function, read from named environment variables.

Explicit arguments beat the environment: tests and tools build ``Settings(...)`` directly
and pass it in; deployed functions call :func:`get_settings` once per instance.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

ROOT = Path(__file__).resolve().parent.parent
DEV_PSEUDONYM_KEY = "cx-copilot-local-development-key"


class SettingsError(RuntimeError):
    """Raised at start when the environment does not describe a runnable deployment."""


def _ambient_credentials_present() -> bool:
    """Cheap check for Application Default Credentials without a network probe.

    ``google.auth.default()`` may contact the metadata server, which costs seconds off
    Google Cloud; these three signals cover every way ADC is normally provided.
    """
    if os.environ.get("GOOGLE_APPLICATION_CREDENTIALS") or os.environ.get("K_SERVICE"):
        return True
    config_dir = os.environ.get("CLOUDSDK_CONFIG") or str(Path.home() / ".config" / "gcloud")
    return (Path(config_dir) / "application_default_credentials.json").is_file()


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="CX_", extra="ignore", frozen=True, validate_by_name=True, validate_by_alias=True
    )

    # --- Google Cloud -------------------------------------------------------------
    project: str | None = Field(
        default=None,
        validation_alias=AliasChoices("CX_PROJECT", "GOOGLE_CLOUD_PROJECT"),
        description="Google Cloud project; unset means everything runs locally.",
    )
    region: str = Field(
        default="europe-west1",
        description="Region the functions run in; also the location of Vertex embeddings and evaluation.",
    )
    environment: Literal["local", "dev", "staging", "prod"] = "local"

    # --- Model --------------------------------------------------------------------
    model_backend: Literal["auto", "vertex", "offline"] = Field(
        default="auto",
        description="auto = vertex when a project and credentials are present, else offline.",
    )
    gemini_location: str = Field(
        default="global",
        description="Vertex location for Gemini calls, independent of the functions' region: 'global' (every "
        "default model supports it), a multi-region such as 'eu' or 'us', or a region.",
    )
    gemini_model: str | None = Field(
        default=None,
        description="Emergency override of every capability's model; unset = config/engine/models.yaml. An override is "
        "checked like the file: an unknown or retired model fails at start.",
    )

    @field_validator("gemini_model", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    models_file: str = Field(default="engine/models.yaml", description="Model profiles file inside CX_CONFIG_DIR.")
    temperature: float = Field(default=0.2, ge=0.0, le=2.0)
    model_timeout_ms: int = Field(
        default=8000,
        ge=250,
        le=60000,
        description="Longest single HTTP attempt to Gemini; shortened so that every attempt fits the budget.",
    )
    latency_budget_ms: int = Field(
        default=12000,
        ge=500,
        le=120000,
        description="Wall-time budget for a model answer, retries included; then offline fallback. The SDK "
        "enforces it: per-call HTTP timeout and retry attempts are derived from it.",
    )
    model_retry_attempts: int = Field(default=2, ge=1, le=6)
    model_retry_initial_delay_s: float = Field(default=0.25, ge=0.0, le=10.0)
    model_retry_max_delay_s: float = Field(default=1.0, ge=0.0, le=30.0)
    vertex_base_url: str | None = Field(
        default=None, description="Override of the Vertex endpoint (private endpoint, tests)."
    )
    vertex_anonymous: bool = Field(
        default=False,
        description="Send no Google credentials (only with CX_VERTEX_BASE_URL: a local stand-in endpoint).",
    )

    # --- Prompt context -------------------------------------------------------------
    context_token_budget: int = Field(default=1200, ge=200, le=32000)
    snapshot_limit: int = Field(default=50, ge=1, le=500, description="Latest N orders/tickets/interactions read.")
    prepared_context: bool = Field(
        default=True,
        description="Serve context_summary, reply_draft and next_best_action from the customer context masked when "
        "the snapshot was written (one document); false: read and mask the whole bounded snapshot per request.",
    )

    # --- Firestore / Pub/Sub --------------------------------------------------------
    firestore_database: str = "(default)"
    firestore_emulator_host: str | None = Field(default=None, validation_alias=AliasChoices("FIRESTORE_EMULATOR_HOST"))
    pubsub_emulator_host: str | None = Field(default=None, validation_alias=AliasChoices("PUBSUB_EMULATOR_HOST"))
    customers_collection: str = "customers"
    kb_collection: str = "kb_articles"
    suggestions_collection: str = "suggestions"
    feedback_collection: str = "feedback"
    suggestion_ttl_days: int = Field(default=180, ge=1, le=3650, description="Stored suggestions expire (TTL).")
    offer_stats_shards: int = Field(
        default=10, ge=1, le=100, description="Counter shards per offer and segment (Firestore ~1 write/s/doc)."
    )
    next_steps_collection: str = "next_steps"
    commitments_collection: str = "commitments"
    commitment_sweep_topic: str = "cx-commitment-sweep"
    commitment_sweep_page: int = Field(
        default=500, ge=10, le=500, description="Commitments read per query page and written per batch (max 500)."
    )
    commitment_sweep_budget_s: float = Field(
        default=420.0,
        ge=5.0,
        le=3000.0,
        description="Time one sweep run may take; with work left it re-publishes itself to continue.",
    )
    embedding_model: str = Field(default="text-multilingual-embedding-002", description="Vertex embedding model.")
    embedding_dim: int = Field(default=256, ge=32, le=2048, description="Vertex embedding size.")
    local_embedding_dim: int = Field(default=1024, ge=64, le=2048, description="Offline hashing embedder size.")
    offers_collection: str = "offers"
    offer_stats_collection: str = "offer_stats"
    offers_cache_ttl_s: float = Field(
        default=60.0, ge=0.0, le=3600.0, description="How long an instance reuses catalogue and acceptance stats."
    )
    nba_max_candidates: int = Field(default=5, ge=2, le=20, description="Ranked candidates shown to the model.")
    nba_report_top: int = Field(default=20, ge=2, le=500, description="Ranked scores kept in responses and events.")
    outbox_collection: str = "event_outbox"
    events_topic: str = "cx-events"
    ticket_closed_topic: str = "cx-ticket-closed"
    ticket_closed_dlq_topic: str = "cx-ticket-closed-dlq"
    snapshot_sync_topic: str = Field(
        default="cx-snapshot-sync",
        description="Change events from the company's systems (schema: functions/sync_events.schema.json).",
    )
    snapshot_sync_dlq_topic: str = "cx-snapshot-sync-dlq"
    sync_tombstones_collection: str = Field(
        default="sync_tombstones", description="Deleted customers' last clock: late upserts stay stale."
    )
    warehouse_dataset: str = Field(default="cx_analytics", description="BigQuery dataset privacy requests search.")
    max_interactions: int = Field(default=1000, ge=50, le=100000, description="Interactions kept per customer.")
    events_max_latency_s: float = Field(default=0.005, gt=0.0, le=5.0)
    events_max_messages: int = Field(default=100, ge=1, le=1000)
    events_publish_timeout_s: float = Field(
        default=2.0,
        gt=0.0,
        le=30.0,
        description="How long a request waits for Pub/Sub to accept its events before writing them to the "
        "outbox instead; no request is acknowledged with an event that is neither published nor in the outbox.",
    )
    outbox_drain_budget_s: float = Field(
        default=240.0, gt=0.0, le=3600.0, description="Wall time one outbox drain run may take (< function timeout)."
    )
    firestore_timeout_s: float = Field(
        default=5.0, gt=0.0, le=60.0, description="Deadline of one Firestore RPC attempt (a hung connection)."
    )
    firestore_retry_budget_s: float = Field(
        default=3.0,
        gt=0.0,
        le=120.0,
        description="Total time one Firestore call may spend retrying transient errors; then 503 (HTTP) or a "
        "raised error (Pub/Sub retries). Keeps a request inside its own budget when Firestore is down.",
    )
    customer_stats_shards: int = Field(
        default=10,
        ge=1,
        le=100,
        description="Shards of each customer's whole-history counters: closes of one customer do not serialize.",
    )

    # --- HTTP ---------------------------------------------------------------------
    max_request_bytes: int = Field(default=256 * 1024, ge=1024, le=10 * 1024 * 1024)
    cors_origins: list[str] = Field(
        default_factory=list,
        description="Browser origins allowed to call the HTTP functions (JSON list in CX_CORS_ORIGINS, e.g. the "
        "agent desktop's static site); empty = no CORS headers, no preflight.",
    )

    # --- Identity (shared/platform/identity.py, docs/identity.md) ---------------------
    iap_audience: list[str] = Field(
        default_factory=list,
        description="Accepted aud of the IAP JWT, /projects/PROJECT_NUMBER/global/backendServices/SERVICE_ID "
        "(JSON list in CX_IAP_AUDIENCE: the function's own backend); empty = no IAP caller gets in.",
    )
    trusted_platform_sas: list[str] = Field(
        default_factory=list,
        description="Service-account e-mails whose X-Agent-* headers are trusted (JSON list in "
        "CX_TRUSTED_PLATFORM_SAS); any other caller's identity headers are refused.",
    )
    local_issuer_jwks: Path | None = Field(
        default=None,
        description="Public key set (JWKS file) of the dev stack's token issuer; honoured only with "
        "CX_ENVIRONMENT=local, refused at start anywhere else.",
    )

    # --- Data and privacy ------------------------------------------------------------
    config_dir: Path = ROOT / "config"
    prompts_dir: Path = ROOT / "prompts"
    prompt_versions: dict[str, str] = Field(
        default_factory=lambda: {
            "context_summary": "v1",
            "next_best_action": "v1",
            "reply_draft": "v1",
            "next_steps": "v2",
            "closing_message": "v2",
        },
        description="Active prompt version per capability (JSON in CX_PROMPT_VERSIONS).",
    )
    pseudonym_key: str = Field(
        default=DEV_PSEUDONYM_KEY,
        min_length=16,
        description="HMAC key for pseudonymous customer keys in events and logs.",
    )
    pii_backend: Literal["local", "dlp"] = Field(
        default="local",
        description="PII masking backend: local recognisers, or Cloud Sensitive Data Protection plus local patterns.",
    )
    pii_dlp_location: str = Field(default="global", description="Sensitive Data Protection location (backend dlp).")
    agent_language: str = Field(default="en", pattern=r"^[a-z]{2}$")
    detect_languages: list[str] = Field(
        default_factory=lambda: ["en", "de", "fr", "es", "pt", "it", "nl", "pl", "sv", "da", "tr"],
        min_length=1,
        description="Languages the detector chooses from (JSON list in CX_DETECT_LANGUAGES).",
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"

    # --- Routing ----------------------------------------------------------------------
    preload: bool = Field(
        default=False,
        description="Load the function's models at instance start (FUNCTION_TARGET) instead of on its first "
        "request; on in the deployed functions, off locally so imports stay cheap.",
    )
    router_artefact: str | None = Field(
        default=str(ROOT / ".local" / "router"),
        description="Trained router (directory with router.npz + router.json, or gs://bucket/prefix); "
        "none there = routing by the intent mapping.",
    )

    @model_validator(mode="after")
    def _check_consistency(self) -> Settings:
        if self.model_backend == "vertex" and not self.project:
            raise ValueError("CX_MODEL_BACKEND=vertex needs CX_PROJECT (or GOOGLE_CLOUD_PROJECT)")
        if self.environment in ("staging", "prod") and self.pseudonym_key == DEV_PSEUDONYM_KEY:
            raise ValueError(f"CX_PSEUDONYM_KEY must be set to a secret in environment {self.environment!r}")
        if self.local_issuer_jwks is not None and self.environment != "local":
            raise ValueError(
                f"CX_LOCAL_ISSUER_JWKS is a development key set; it is refused in environment {self.environment!r}"
            )
        if self.local_issuer_jwks is not None and not self.local_issuer_jwks.is_file():
            raise ValueError(f"CX_LOCAL_ISSUER_JWKS: {self.local_issuer_jwks} does not exist")
        not_emails = [sa for sa in self.trusted_platform_sas if "@" not in sa]
        if not_emails:
            raise ValueError(f"CX_TRUSTED_PLATFORM_SAS: {not_emails} are not service-account e-mails")
        if self.pii_backend == "dlp" and not self.project:
            raise ValueError("CX_PII_BACKEND=dlp needs CX_PROJECT (or GOOGLE_CLOUD_PROJECT)")
        if self.vertex_anonymous and not self.vertex_base_url:
            raise ValueError("CX_VERTEX_ANONYMOUS needs CX_VERTEX_BASE_URL (credentials are never skipped for Google)")
        if self.model_retry_max_delay_s < self.model_retry_initial_delay_s:
            raise ValueError("CX_MODEL_RETRY_MAX_DELAY_S is smaller than the initial delay")
        for path in (self.config_dir, self.prompts_dir):
            if not path.is_dir():
                raise ValueError(f"directory {path} does not exist")
        return self

    @property
    def backend(self) -> Literal["vertex", "offline"]:
        """The engine actually used: ``auto`` resolves without touching the network."""
        if self.model_backend != "auto":
            return self.model_backend
        return "vertex" if self.project and _ambient_credentials_present() else "offline"

    @property
    def local_topics(self) -> dict[str, list[str]]:
        """Topics and pull subscriptions the local stack and tests create on the emulator."""
        return {
            self.events_topic: [f"{self.events_topic}-local", f"{self.events_topic}-warehouse"],
            self.ticket_closed_topic: [f"{self.ticket_closed_topic}-local"],
            self.ticket_closed_dlq_topic: [f"{self.ticket_closed_dlq_topic}-local"],
            self.snapshot_sync_topic: [f"{self.snapshot_sync_topic}-local"],
            self.snapshot_sync_dlq_topic: [f"{self.snapshot_sync_dlq_topic}-local"],
            self.commitment_sweep_topic: [f"{self.commitment_sweep_topic}-local"],
        }

    @property
    def gcp_project_or_local(self) -> str:
        """Project id for Firestore/Pub/Sub clients; the emulators accept any id."""
        return self.project or "cx-copilot-local"


def load_settings(**overrides: object) -> Settings:
    """Build settings, turning pydantic's errors into one readable start-up message."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            name = ".".join(str(p) for p in err["loc"]) or "settings"
            env = f"CX_{name.upper()}" if err["loc"] else "environment"
            lines.append(f"  {env}: {err['msg']}")
        raise SettingsError("invalid CX Copilot configuration:\n" + "\n".join(lines)) from None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Settings for a deployed instance, read once. Config and prompt files are checked against each
    other when the runtime is built (:func:`shared.runtime.startup`), so this module opens no file."""
    return load_settings()
