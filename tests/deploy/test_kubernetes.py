"""deploy/kubernetes: each manifest and the built overlay are valid Kubernetes objects (the
official schemas, through kubernetes-validate), they set only real settings, keep secrets in a
Secret they only reference, and give each role what it needs (probes on routes the app has,
resources, a disruption budget, the migration Job)."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import typer

from hub.cli import ServeRole
from hub.cli import app as cli
from hub.settings import Settings
from tests.deploy.manifests import (
    BASE,
    HUB_SETTINGS,
    KUBERNETES_VERSION,
    KUSTOMIZATIONS,
    PRODUCTION,
    build_kustomization,
    containers,
    environment_names,
    kustomize,
    load_all,
    manifest_files,
    pod_specs,
)

SECRET = "hub-secrets"
SECRET_SETTINGS = {
    "HUB_DATABASE_URL",
    "HUB_AMQP_URL",
    "HUB_SECRET_KEY",
    "HUB_AGENCY_NAME",
    "HUB_AGENCY_IBAN",
    "HUB_AGENCY_BIC",
}
MIGRATION_DATABASE = ("migrate", "HUB_DATABASE_URL")


def _validate(obj: dict[str, Any]) -> None:
    # strict: a misspelt or misplaced field is an error, not silently dropped by the API server.
    kubernetes_validate.validate(obj, KUBERNETES_VERSION, strict=True)


@pytest.mark.parametrize("path", manifest_files(), ids=lambda p: p.name)
def test_each_manifest_is_a_valid_kubernetes_object(path: Path) -> None:
    documents = load_all(path)
    assert documents
    for obj in documents:
        if path.parent.name == "production" and obj["kind"] != "Namespace":
            continue  # a patch: a fragment, validated once merged (below)
        _validate(obj)


@pytest.mark.parametrize("directory", KUSTOMIZATIONS, ids=lambda p: p.name)
def test_the_built_kustomization_is_valid(directory: Path) -> None:
    objects = kustomize(directory)
    kinds = sorted(o["kind"] for o in objects)
    assert kinds.count("Deployment") == 3 and "Job" in kinds and "Service" in kinds
    for obj in objects:
        _validate(obj)


def test_a_broken_manifest_is_refused_by_the_validation() -> None:
    [deployment] = [o for o in load_all(BASE / "api.yaml") if o["kind"] == "Deployment"]
    deployment["spec"]["template"]["spec"]["containers"][0]["livenessProbe"]["httpGet"]["pathh"] = "/x"
    with pytest.raises(kubernetes_validate.ValidationError):
        _validate(deployment)


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl is the reference to compare with")
@pytest.mark.parametrize("directory", KUSTOMIZATIONS, ids=lambda p: p.name)
def test_the_python_build_used_without_kubectl_equals_kubectl_kustomize(directory: Path) -> None:
    def key(obj: dict[str, Any]) -> str:
        return f"{obj['kind']}/{obj['metadata']['name']}"

    expected = sorted(kustomize(directory), key=key)
    assert sorted(build_kustomization(directory), key=key) == expected


@pytest.mark.parametrize("directory", KUSTOMIZATIONS, ids=lambda p: p.name)
def test_every_environment_variable_is_a_hub_setting(directory: Path) -> None:
    names = environment_names(kustomize(directory))
    assert names
    unknown = {name: where for name, where in names.items() if name not in HUB_SETTINGS}
    assert not unknown, f"not settings of hub/settings.py: {unknown}"


def test_the_settings_given_in_clear_are_valid_values() -> None:
    objects = kustomize(PRODUCTION)
    values: dict[str, str] = {}
    for obj in objects:
        if obj["kind"] == "ConfigMap":
            values.update(obj["data"])
    for container in containers(objects):
        values.update({e["name"]: e["value"] for e in container.get("env", []) if "value" in e})
    fields = {name.removeprefix("HUB_").lower(): value for name, value in values.items()}
    # The secrets as an operator gives them (a key long enough, the agency's real account).
    secrets = {"secret_key": "s" * 40, "agency_iban": "DE89370400440532013000", "agency_bic": "COBADEFFXXX"}
    settings = Settings(_env_file=None, **fields, **secrets)  # type: ignore[call-arg]
    assert settings.env == "production" and settings.host == "0.0.0.0"  # noqa: S104


@pytest.mark.parametrize("directory", KUSTOMIZATIONS, ids=lambda p: p.name)
def test_secrets_are_only_referenced_from_a_secret_never_committed(directory: Path) -> None:
    objects = kustomize(directory)
    assert not [o for o in objects if o["kind"] == "Secret"]
    for obj in objects:
        if obj["kind"] == "ConfigMap":
            assert not SECRET_SETTINGS & set(obj["data"])
    for container in containers(objects):
        env = {e["name"]: e for e in container["env"]}
        for name in SECRET_SETTINGS:
            # The migrations connect as the tables' owner, the roles as a login granted hub_app.
            key = "HUB_DATABASE_OWNER_URL" if (container["name"], name) == MIGRATION_DATABASE else name
            assert env[name]["valueFrom"]["secretKeyRef"] == {"name": SECRET, "key": key}, container["name"]


def _by_role(objects: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {
        o["metadata"]["labels"]["app.kubernetes.io/component"]: o
        for o in objects
        if o["kind"] in ("Deployment", "Job")
    }


def test_a_deployment_per_role_running_that_role_and_a_job_running_the_migrations() -> None:
    roles = _by_role(kustomize(PRODUCTION))
    assert set(roles) == {"api", "relay", "worker", "migrate"}
    commands = set(typer.main.get_command(cli).commands)  # type: ignore[attr-defined]
    for role, obj in roles.items():
        [container] = obj["spec"]["template"]["spec"]["containers"]
        args = container["args"]
        assert args[0] in commands
        if role == "migrate":
            assert args == ["migrate"] and obj["kind"] == "Job"
        else:
            assert args == ["serve", "--role", role] and role in {r.value for r in ServeRole}
    assert roles["api"]["spec"]["replicas"] == 3  # the overlay's patch was applied


def test_every_container_has_resources_probes_and_runs_as_non_root() -> None:
    objects = kustomize(PRODUCTION)
    for spec in pod_specs(objects):
        assert spec["securityContext"]["runAsNonRoot"] is True
        assert spec["enableServiceLinks"] is False
        for container in spec["containers"]:
            for kind in ("requests", "limits"):
                assert {"cpu", "memory"} <= set(container["resources"][kind])
            assert container["image"] == "registry.example.org/agency/bailiff-hub:0.1.0"
    for obj in objects:
        if obj["kind"] == "Deployment":
            [container] = obj["spec"]["template"]["spec"]["containers"]
            assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
            assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"


def test_each_role_has_a_disruption_budget_and_the_api_a_service() -> None:
    objects = kustomize(PRODUCTION)
    deployments = {o["metadata"]["name"]: o for o in objects if o["kind"] == "Deployment"}
    budgets = [o for o in objects if o["kind"] == "PodDisruptionBudget"]
    for name, deployment in deployments.items():
        pod_labels = deployment["spec"]["template"]["metadata"]["labels"]
        covering = [b for b in budgets if b["spec"]["selector"]["matchLabels"].items() <= pod_labels.items()]
        assert len(covering) == 1, name
    [service] = [o for o in objects if o["kind"] == "Service"]
    api_labels = deployments["hub-api"]["spec"]["template"]["metadata"]["labels"]
    assert service["spec"]["selector"].items() <= api_labels.items()
    ports = deployments["hub-api"]["spec"]["template"]["spec"]["containers"][0]["ports"]
    assert service["spec"]["ports"][0]["targetPort"] in {p["name"] for p in ports}
