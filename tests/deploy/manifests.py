"""Reading deploy/ as its tools would: the compose file, the Kubernetes manifests (built by
``kubectl kustomize`` when kubectl is installed, else by :func:`build_kustomization`, which applies
the few kustomize features the manifests use) and the names they may set."""

from __future__ import annotations

import copy
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

from hub.settings import Settings

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
KUBERNETES = DEPLOY / "kubernetes"
BASE = KUBERNETES / "base"
PRODUCTION = KUBERNETES / "overlays" / "production"
KUSTOMIZATIONS = (BASE, PRODUCTION)
KUBERNETES_VERSION = "1.30"

HUB_SETTINGS = frozenset(f"HUB_{name.upper()}" for name in Settings.model_fields)
# What the other images read (the official postgres and rabbitmq images' documented variables).
OTHER_IMAGES_VARIABLES = frozenset(
    {
        "POSTGRES_USER",
        "POSTGRES_PASSWORD",
        "POSTGRES_DB",
        "RABBITMQ_DEFAULT_USER",
        "RABBITMQ_DEFAULT_PASS",
        "RABBITMQ_ERLANG_COOKIE",
    }
)


def yaml_files() -> list[Path]:
    return sorted(p for p in DEPLOY.rglob("*") if p.suffix in (".yaml", ".yml"))


def load_all(path: Path) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc is not None]


def compose() -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    return document


def manifest_files() -> list[Path]:
    """Every Kubernetes object file (not the kustomization files themselves)."""
    return sorted(p for p in KUBERNETES.rglob("*.yaml") if p.name != "kustomization.yaml")


def kustomize(directory: Path) -> list[dict[str, Any]]:
    """The objects ``kubectl apply -k directory`` would send."""
    if shutil.which("kubectl") is not None:
        done = subprocess.run(
            ["kubectl", "kustomize", str(directory)], capture_output=True, text=True, timeout=120, check=True
        )
        return [doc for doc in yaml.safe_load_all(done.stdout) if doc is not None]
    return build_kustomization(directory)


# --- a small kustomize: resources, strategic-merge patches, labels, namespace, images -------------


def build_kustomization(directory: Path) -> list[dict[str, Any]]:
    spec = yaml.safe_load((directory / "kustomization.yaml").read_text())
    known = {"apiVersion", "kind", "resources", "patches", "labels", "namespace", "images"}
    unknown = set(spec) - known
    if unknown:
        raise NotImplementedError(f"{directory}: kustomize features this builder lacks: {sorted(unknown)}")
    objects: list[dict[str, Any]] = []
    for resource in spec.get("resources", []):
        path = directory / resource
        objects += build_kustomization(path) if path.is_dir() else load_all(path)
    for patch in spec.get("patches", []):
        [change] = load_all(directory / patch["path"])
        target = _find(objects, change["kind"], change["metadata"]["name"])
        _merge(target, change)
    for label in spec.get("labels", []):
        for obj in objects:
            obj["metadata"].setdefault("labels", {}).update(label["pairs"])
    if "namespace" in spec:
        for obj in objects:
            if obj["kind"] != "Namespace":
                obj["metadata"]["namespace"] = spec["namespace"]
    for image in spec.get("images", []):
        for container in containers(objects):
            if container["image"].split(":")[0] == image["name"]:
                container["image"] = f"{image.get('newName', image['name'])}:{image['newTag']}"
    return objects


def _find(objects: list[dict[str, Any]], kind: str, name: str) -> dict[str, Any]:
    [found] = [o for o in objects if o["kind"] == kind and o["metadata"]["name"] == name]
    return found


def _merge(target: dict[str, Any], change: dict[str, Any]) -> None:
    """Strategic merge as kustomize does it for these objects: maps recursively, lists of named
    items (containers, env) item by item, any other list replaced."""
    for key, value in change.items():
        old = target.get(key)
        if isinstance(value, dict) and isinstance(old, dict):
            _merge(old, value)
        elif _named_items(value) and _named_items(old):
            by_name = {item["name"]: item for item in old}
            for item in value:
                if item["name"] in by_name:
                    _merge(by_name[item["name"]], item)
                else:
                    old.append(copy.deepcopy(item))
        else:
            target[key] = copy.deepcopy(value)


def _named_items(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(i, dict) and "name" in i for i in value)


# --- what the objects hold ------------------------------------------------------------------------


def pod_specs(objects: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for obj in objects:
        if obj["kind"] in ("Deployment", "Job"):
            yield obj["spec"]["template"]["spec"]


def containers(objects: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for spec in pod_specs(objects):
        yield from spec["containers"]


def environment_names(objects: list[dict[str, Any]]) -> dict[str, str]:
    """Every environment variable the pods get, with where it is set: each container's ``env``
    and the data keys of the ConfigMaps they take whole (``envFrom``)."""
    config_maps = {o["metadata"]["name"]: o for o in objects if o["kind"] == "ConfigMap"}
    names: dict[str, str] = {}
    for container in containers(objects):
        for item in container.get("env", []):
            names[item["name"]] = f"container {container['name']} env"
        for source in container.get("envFrom", []):
            ref = source["configMapRef"]["name"]
            for key in config_maps[ref].get("data", {}):
                names[key] = f"ConfigMap {ref}"
    return names
