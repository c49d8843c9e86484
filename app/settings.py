"""Every setting, read once from the environment (and an optional `.env`)."""

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    database_url: str | None = Field(
        default=None,
        description="PostgreSQL URL (postgres://user:pass@host:port/db). Unset: embedded PostgreSQL.",
    )
    data_dir: Path = Field(
        default=Path(".switchboard"),
        description="Where the embedded PostgreSQL keeps its data folder.",
    )
    broadcast_url: str = Field(
        default="memory://",
        description="memory:// (one process) or redis://host:port/db (across processes).",
    )
    broadcast_channel_prefix: str = Field(
        default="switchboard:",
        description="Prefix of every pub/sub channel: lets environments share one Redis.",
    )
    host: str = "127.0.0.1"
    port: int = 8000
    log_level: str = "INFO"
    run_workers: bool = Field(
        default=True,
        description="Run background workers inside the API process as well.",
    )
    smtp_host: str | None = Field(default=None, description="Unset: emails are logged, not sent.")
    smtp_port: int = 25
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_start_tls: bool = False
    smtp_from: str = "Switchboard <no-reply@switchboard.local>"
    mass_end_batch_size: int = Field(default=5000, ge=1, le=100_000)
    mass_end_max_runs: int = Field(
        default=10,
        ge=1,
        description="A mass end that has been started this many times without finishing is FAILED.",
    )
    mass_end_retry_seconds: float = Field(
        default=5.0,
        gt=0,
        description="A mass end that found its team's lock held, or hit an error, runs again after this long.",
    )
    pause_reminder_interval_seconds: float = Field(
        default=86_400.0,
        gt=0,
        description="While a team stays paused, its Admins and Team Leaders are reminded by email this often, "
        "counted from the pause.",
    )
    missing_rep_digest_hour: int = Field(
        default=8,
        ge=0,
        le=23,
        description="UTC hour at which Managers and Admins get the daily email of newly detected missing reps.",
    )
    mass_end_reopen_hours: float = Field(
        default=24.0,
        gt=0,
        le=24 * 90,
        description="A completed mass end can be undone (reopenMassEnd) for this long after it finished.",
    )
    job_heartbeat_timeout: float = Field(
        default=30.0,
        gt=0,
        description="Seconds without a heartbeat after which a claimed job is taken up by another worker.",
    )
    job_poll_interval: float = Field(
        default=5.0,
        gt=0,
        description="Seconds between a worker's checks for stale jobs (new jobs wake it at once).",
    )
    webhook_allow_private_targets: bool = Field(
        default=False,
        description="Development only: webhook URLs may use http:// and point at private, loopback or "
        "link-local addresses (on in `serve --demo`).",
    )
    webhook_secret_keys: str | None = Field(
        default=None,
        description="Comma-separated Fernet keys encrypting webhook secrets at rest; the first encrypts, "
        "all decrypt (rotation). Unset: a key kept in DATA_DIR (embedded database only).",
    )
    webhook_timeout_seconds: float = Field(default=10.0, gt=0, le=60, description="Per delivery attempt.")
    webhook_max_attempts: int = Field(
        default=10, ge=1, le=20, description="Attempts per delivery before it is FAILED for good."
    )
    webhook_retry_base_seconds: float = Field(
        default=5.0, gt=0, description="First retry delay; each next one is 4 times longer (capped at 10 hours)."
    )
    webhook_disable_after_seconds: float = Field(
        default=86_400.0, gt=0, description="An endpoint failing (no success) for this long is disabled."
    )
    webhook_endpoint_concurrency: int = Field(
        default=16, ge=1, le=256, description="Requests in flight to one endpoint from one worker."
    )
    ws_connection_init_timeout: float = Field(
        default=10.0, gt=0, description="Seconds a websocket may take to send connection_init (else closed with 4408)."
    )
    ws_send_buffer: int = Field(
        default=100,
        ge=2,
        description="Frames a websocket may have waiting to be sent; a reader further behind is closed (1013).",
    )
    ws_auth_check_interval: float = Field(
        default=1.0, gt=0, description="Seconds between re-checks of open websockets' tokens and roles."
    )
    ws_keepalive_interval: float = Field(
        default=15.0, gt=0, description="Seconds between `ka` messages on the legacy graphql-ws subprotocol."
    )
    ws_implementation: str = Field(
        default="websockets-sansio",
        description="uvicorn's websocket implementation (websockets-sansio, websockets, wsproto): the "
        "first keeps the least memory per connection (see docs).",
    )
    ws_per_message_deflate: bool = Field(
        default=False,
        description="Compress websocket frames (permessage-deflate): fewer bytes on the wire, but about "
        "n KiB more memory per connection (see docs).",
    )
    live_shared_execution: bool = Field(
        default=True,
        description="Execute each event once per distinct subscription; off: once per subscriber (the baseline).",
    )
    public_url: str | None = Field(
        default=None,
        description="The address people open the dashboard at (e.g. https://switchboard.example.com/), used in "
        "emails; unset: the address the request that sent the email came to.",
    )
    allowed_origins: list[str] = Field(
        default_factory=list,
        description="Browser origins allowed to call the API from another origin: CORS on HTTP, and websockets (JSON list).",
    )

    # The request pipeline (docs/security.md): limits checked before any work they bound.
    graphiql: bool = Field(default=True, description="Serve GraphiQL to browsers on GET /graphql.")
    introspection: bool = Field(default=True, description="Answer introspection queries (__schema, __type).")
    request_timeout_seconds: float = Field(default=30.0, gt=0, description="A query or mutation running longer is stopped.")
    max_body_bytes: int = Field(default=1_000_000, ge=1024, description="Largest request body, in bytes (413 beyond).")
    max_document_chars: int = Field(default=20_000, ge=100, description="Longest GraphQL document, in characters.")
    max_tokens: int = Field(default=1_000, ge=10, description="Most lexical tokens in a document: the parser stops there.")
    max_depth: int = Field(default=10, ge=1, description="Deepest field nesting of an operation.")
    max_aliases: int = Field(default=30, ge=0, description="Most aliased fields in an operation.")
    max_cost: int = Field(default=50_000, ge=1, description="Highest cost of an operation (cost model: docs/security.md).")
    max_list_items: int = Field(default=1_000, ge=1, description="Longest list in the variables, counted on the raw JSON.")
    anonymous_max_body_bytes: int = Field(default=16_384, ge=1024, description="The same limits for callers without a token.")
    anonymous_max_document_chars: int = Field(default=8_000, ge=100)
    anonymous_max_tokens: int = Field(default=400, ge=10)
    anonymous_max_depth: int = Field(default=5, ge=1)
    anonymous_max_aliases: int = Field(default=0, ge=0)
    anonymous_max_cost: int = Field(default=2_000, ge=1)
    max_operations_per_socket: int = Field(default=20, ge=1, description="Operations one websocket may run at once.")
    document_cache_size: int = Field(default=1_000, ge=1, description="Parsed documents kept (also the APQ store).")
    document_cache_tokens: int = Field(default=500_000, ge=1_000, description="Tokens the cached documents may hold in all.")
    rate_limits: bool = Field(default=True, description="Enforce the rate limits below.")
    rate_limit_ingestion: str = Field(default="600/minute", description="Per integration token (ingestLeads, receiveLeadMessage).")
    rate_limit_dashboard: str = Field(default="1200/minute", description="Per user token (the dashboards).")
    rate_limit_anonymous: str = Field(default="120/minute", description="Per client address, without a token.")
    rate_limit_storage_url: str | None = Field(
        default=None,
        description="limits storage URI; unset: the broadcast Redis when BROADCAST_URL is redis://, memory otherwise.",
    )


@lru_cache
def get_settings() -> Settings:
    return Settings()
