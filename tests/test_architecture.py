"""The shape docs/pipeline.md describes, held against the code (read as text, nothing imported):
the inbound path is wired explicitly in ``hub/bootstrap.py``; no module registers anything with
another by being imported, and no step hands another a value through a context variable or a
private attribute; ``hub/messaging`` knows no domain module; ``hub/tariff`` (the legal figures)
imports no other hub module than ``hub.kit``; only ``hub/mandates`` writes a mandate's status or its
log. Each rule is also run against a small tree that breaks it."""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# Decorators that register nothing anywhere: they wrap or describe the function they decorate.
PURE_DECORATORS = frozenset(
    {"dataclass", "contextmanager", "asynccontextmanager", "cache", "lru_cache", "cached_property",
     "overload", "total_ordering", "wraps", "property", "staticmethod", "classmethod"}
)  # fmt: skip
DOMAIN = (
    "hub.acts",
    "hub.mandates",
    "hub.invoices",
    "hub.cases",
    "hub.ledger",
    "hub.finance",
    "hub.remittances",
    "hub.bootstrap",
)


def modules(root: Path) -> Iterator[tuple[str, ast.Module]]:
    for path in sorted((root / "hub").rglob("*.py")):
        if path.name == "__main__.py":  # runs the command line: the one module meant to act
            continue
        yield path.relative_to(root).as_posix(), ast.parse(path.read_text(), str(path))


def _root_name(node: ast.expr) -> str | None:
    while isinstance(node, ast.Attribute | ast.Call | ast.Subscript):
        node = node.func if isinstance(node, ast.Call) else node.value
    return node.id if isinstance(node, ast.Name) else None


def _defined_here(tree: ast.Module) -> set[str]:
    """Names the module binds itself (not by import)."""
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        for target in [*getattr(node, "targets", []), getattr(node, "target", None)]:
            if isinstance(target, ast.Name):
                names.add(target.id)
    return names


def registrations_by_import(root: Path) -> list[str]:
    """Module-level statements that act on an object imported from elsewhere: a decorator that is
    not pure and not the module's own (``@handles(...)``, ``@event.listens_for(Session, ...)``), a
    call (``TRANSLATORS.append(...)``, ``event.listen(...)``), an item or attribute set."""
    found = []
    for name, tree in modules(root):
        own = _defined_here(tree)
        for node in tree.body:
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                for decorator in node.decorator_list:
                    base = _root_name(decorator)
                    head = decorator.func if isinstance(decorator, ast.Call) else decorator
                    short = head.attr if isinstance(head, ast.Attribute) else getattr(head, "id", None)
                    if base not in own and short not in PURE_DECORATORS:
                        found.append(f"{name}:{node.lineno} @{ast.unparse(decorator)}")
            elif isinstance(node, ast.Expr) and isinstance(node.value, ast.Call):
                base = _root_name(node.value)
                if base not in own:
                    found.append(f"{name}:{node.lineno} {ast.unparse(node.value)}")
            elif isinstance(node, ast.Assign | ast.AugAssign):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                for target in targets:
                    if isinstance(target, ast.Subscript | ast.Attribute) and _root_name(target) not in own:
                        found.append(f"{name}:{node.lineno} {ast.unparse(target)} = ...")
    return found


def handler_imports_outside_bootstrap(root: Path) -> list[str]:
    """A module importing a domain module's ``handlers`` (as app.py once did, to register them):
    only the bootstrap wires them."""
    found = []
    for name, tree in modules(root):
        if name == "hub/bootstrap.py":
            continue
        for node in ast.walk(tree):
            imported = []
            if isinstance(node, ast.ImportFrom) and node.module:
                imported = [node.module, *(f"{node.module}.{a.name}" for a in node.names)]
            elif isinstance(node, ast.Import):
                imported = [alias.name for alias in node.names]
            if any(module.endswith(".handlers") for module in imported):
                found.append(f"{name}:{node.lineno} {ast.unparse(node)}")
    return found


def side_channels(root: Path) -> list[str]:
    """Context variables, and private attributes on a wire message's class (values riding on a
    message past the steps that read it, as e-invoice errors once did)."""
    found = []
    for name, tree in modules(root):
        for node in ast.walk(tree):
            if isinstance(node, ast.Name) and node.id == "ContextVar":
                found.append(f"{name}:{node.lineno} ContextVar")
            elif isinstance(node, ast.ClassDef) and any("v1." in ast.unparse(b) for b in node.bases):
                if "PrivateAttr" in ast.unparse(node):
                    found.append(f"{name}:{node.lineno} PrivateAttr on {node.name}")
    return found


def processors_built_outside_bootstrap(root: Path) -> list[str]:
    found = []
    for name, tree in modules(root):
        if name == "hub/bootstrap.py":
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and ast.unparse(node.func).endswith("InboundProcessor"):
                found.append(f"{name}:{node.lineno}")
    return found


def messaging_imports_of_domain_modules(root: Path) -> list[str]:
    found = []
    for name, tree in modules(root):
        if not name.startswith("hub/messaging/"):
            continue
        for node in ast.walk(tree):
            imported = []
            if isinstance(node, ast.ImportFrom) and node.module:
                imported = [node.module]
            elif isinstance(node, ast.Import):
                imported = [alias.name for alias in node.names]
            for module in imported:
                if module.startswith(DOMAIN):
                    found.append(f"{name}:{node.lineno} {module}")
    return found


# What the legal figures may import besides the standard library: they sit below every domain module.
TARIFF_MAY_IMPORT = ("hub.kit", "hub.tariff", "pydantic", "typer", "schemas")


def tariff_imports_beyond_kit(root: Path) -> list[str]:
    """``hub/tariff`` is low and pure: recovery, policy, invoices and finance import it, so it may
    import none of them (nor acts, nor any other hub module but ``hub.kit``)."""
    found = []
    for name, tree in modules(root):
        if not name.startswith("hub/tariff/"):
            continue
        for node in ast.walk(tree):
            imported = []
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                imported = [node.module]
            elif isinstance(node, ast.Import):
                imported = [alias.name for alias in node.names]
            for module in imported:
                top = module.split(".")[0]
                allowed = any(module == ok or module.startswith(f"{ok}.") for ok in TARIFF_MAY_IMPORT)
                if not allowed and top not in sys.stdlib_module_names:
                    found.append(f"{name}:{node.lineno} {module}")
    return found


def mandate_status_writes_outside_mandates(root: Path) -> list[str]:
    """A mandate's status set (``<...mandate...>.status = ``, ``update(Mandate)``) or its log
    written (``MandateEvent(...)``) by a module that is not the mandates module."""
    found = []
    for name, tree in modules(root):
        if name.startswith("hub/mandates/"):
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Assign | ast.AugAssign | ast.AnnAssign):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                for target in targets:
                    if (
                        isinstance(target, ast.Attribute)
                        and target.attr == "status"
                        and "mandate" in ast.unparse(target.value).lower()
                    ):
                        found.append(f"{name}:{node.lineno} {ast.unparse(target)}")
            elif isinstance(node, ast.Call):
                func = ast.unparse(node.func)
                if func.endswith("MandateEvent") or (
                    func.endswith("update") and node.args and ast.unparse(node.args[0]).endswith("Mandate")
                ):
                    found.append(f"{name}:{node.lineno} {ast.unparse(node)[:60]}")
    return found


RULES = [
    registrations_by_import,
    handler_imports_outside_bootstrap,
    side_channels,
    processors_built_outside_bootstrap,
    messaging_imports_of_domain_modules,
    tariff_imports_beyond_kit,
    mandate_status_writes_outside_mandates,
]


@pytest.mark.parametrize("rule", RULES, ids=lambda rule: rule.__name__)
def test_the_hub_keeps_the_rule(rule: object) -> None:
    assert callable(rule)
    assert rule(ROOT) == []


# What each rule must catch: the shapes the inbound path had before bootstrap.py (issue 10).
BROKEN = {
    registrations_by_import: (
        "hub/acts/handlers.py",
        "from hub.messaging.inbound import handles\n\n@handles('act_report')\nasync def h(): ...\n",
    ),
    handler_imports_outside_bootstrap: (
        "hub/acts/batch.py",
        "import hub.acts.handlers  # noqa: F401  (the records' use case, wherever batches run)\n",
    ),
    side_channels: (
        "hub/invoices/intake.py",
        "class EInvoice(v1.FeeInvoice):\n    _refusals: list = PrivateAttr(default_factory=list)\n",
    ),
    processors_built_outside_bootstrap: ("hub/cli.py", "p = InboundProcessor(signer)\n"),
    messaging_imports_of_domain_modules: ("hub/messaging/inbound.py", "import hub.acts.handlers\n"),
    tariff_imports_beyond_kit: (
        "hub/tariff/fees.py",
        "from hub.kit.money import Money\nfrom hub.recovery.facts import ClaimKind\n",
    ),
    mandate_status_writes_outside_mandates: (
        "hub/acts/repository.py",
        "def f(mandate, s):\n    mandate.status = s\n",
    ),
}


@pytest.mark.parametrize("rule", RULES, ids=lambda rule: rule.__name__)
def test_the_rule_catches_what_it_forbids(rule: object, tmp_path: Path) -> None:
    path, source = BROKEN[rule]  # type: ignore[index]
    (tmp_path / path).parent.mkdir(parents=True)
    (tmp_path / path).write_text(source)
    assert callable(rule)
    assert [found.split(":")[0] for found in rule(tmp_path)] == [path]


def test_every_kind_an_office_sends_has_its_handling() -> None:
    from hub import bootstrap
    from hub.messaging.inbound import OFFICE_KINDS

    assert bootstrap.KINDS.keys() == OFFICE_KINDS
