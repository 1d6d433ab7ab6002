"""deploy/compose.yaml, deploy/Dockerfile's basics and the YAML of deploy/: every file parses, the
compose file runs each role with real settings, loads the checked-in RabbitMQ definitions into a
cluster of three nodes, and every value it needs from the operator is listed in env.example."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from adapters.amqp import topology
from tests.adapters.amqp.test_topology import DEFINITIONS_FILE
from tests.deploy.manifests import DEPLOY, HUB_SETTINGS, OTHER_IMAGES_VARIABLES, compose, yaml_files

ROOT = DEPLOY.parent
HUB_ROLES = {"api", "relay", "worker"}
INTERPOLATED = re.compile(r"\$\{([A-Z0-9_]+)[^}]*\}")


@pytest.mark.parametrize("path", yaml_files(), ids=lambda p: str(p.relative_to(DEPLOY)))
def test_every_yaml_file_parses(path: Path) -> None:
    assert [doc for doc in yaml.safe_load_all(path.read_text()) if doc is not None]


def _services() -> dict[str, dict[str, Any]]:
    services: dict[str, dict[str, Any]] = compose()["services"]
    return services


def test_each_role_runs_in_its_own_service_two_apis_and_the_migrations_first() -> None:
    services = _services()
    for role in HUB_ROLES:
        assert services[role]["command"] == ["serve", "--role", role]
        assert services[role]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert services["api"]["deploy"]["replicas"] == 2
    assert services["migrate"]["command"] == ["migrate"]
    assert services["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert {"postgres", "prometheus"} <= set(services)


def test_every_environment_variable_is_a_hub_setting_or_read_by_its_image() -> None:
    for name, service in _services().items():
        for variable in service.get("environment", {}):
            hub_image = service.get("image") == "bailiff-hub:local"
            allowed = HUB_SETTINGS if hub_image else OTHER_IMAGES_VARIABLES
            assert variable in allowed, f"{name}: {variable} is not a setting its image reads"


def test_the_hub_connects_to_the_cluster_and_the_database_of_the_file() -> None:
    services = _services()
    environment = services["api"]["environment"]
    assert environment["HUB_DATABASE_URL"].startswith("postgresql+asyncpg://")
    assert environment["HUB_DATABASE_URL"].endswith("@postgres:5432/hub")
    assert environment["HUB_AMQP_URL"].endswith("@rabbitmq:5672/")
    nodes = [name for name in services if name.startswith("rabbitmq-") and "hostname" in services[name]]
    assert len(nodes) == 3
    for node in nodes:  # "rabbitmq" reaches any of them
        assert services[node]["networks"]["default"]["aliases"] == ["rabbitmq"]
    config = (DEPLOY / "rabbitmq" / "rabbitmq.conf").read_text()
    listed = set(re.findall(r"^cluster_formation\.classic_config\.nodes\.\d+ = rabbit@(\S+)$", config, re.M))
    assert listed == {services[node]["hostname"] for node in nodes}


def test_the_cluster_is_loaded_with_the_checked_in_definitions() -> None:
    """The file the compose file imports is the one tests/adapters/amqp/test_topology.py holds equal
    to what the hub declares at start."""
    loader = _services()["rabbitmq-definitions"]
    [mount] = [v for v in loader["volumes"] if "definitions.json" in v]
    source, target, _ = mount.split(":")
    assert (DEPLOY / source).resolve() == DEFINITIONS_FILE.resolve()
    assert f"import_definitions {target}" in " ".join(loader["command"])
    for node in ("rabbitmq-1", "rabbitmq-2", "rabbitmq-3"):
        assert loader["depends_on"][node]["condition"] == "service_healthy"
    assert DEFINITIONS_FILE.read_text() == topology.render_definitions(topology.SAMPLE_OFFICE_CODES)


def test_every_mounted_file_exists() -> None:
    for name, service in _services().items():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("."):
                assert (DEPLOY / source).is_file(), f"{name}: {source}"


def test_every_value_the_operator_gives_is_listed_in_env_example() -> None:
    wanted = set(INTERPOLATED.findall((DEPLOY / "compose.yaml").read_text()))
    listed = {
        line.split("=", 1)[0]
        for line in (DEPLOY / "env.example").read_text().splitlines()
        if line and not line.startswith("#")
    }
    assert wanted == listed
    # Nothing filled in: the example holds no value, the real .env is never committed.
    assert all(
        line.endswith("=") for line in (DEPLOY / "env.example").read_text().splitlines() if "=" in line
    )
    assert "deploy/.env" in (ROOT / ".gitignore").read_text().splitlines()


def test_the_dockerfile_installs_the_package_and_runs_as_a_non_root_user() -> None:
    lines = [line.strip() for line in (ROOT / "Dockerfile").read_text().splitlines()]
    instructions = [line for line in lines if line and not line.startswith("#")]
    assert any(re.match(r"^(RUN )?pip install (-e )?\.", line) for line in instructions)
    users = [line.split()[1] for line in instructions if line.startswith("USER ")]
    assert users and users[-1] not in ("root", "0")
    assert instructions[-2:] == ['ENTRYPOINT ["hub"]', 'CMD ["serve", "--role", "api"]']
    for needed in ("pyproject.toml", "hub", "adapters", "schemas", "migrations"):
        assert any(line.startswith("COPY ") and needed in line.split() for line in instructions), needed
