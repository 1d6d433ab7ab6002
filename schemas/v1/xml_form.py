"""How the v1 models map to XML: names, namespace, and the element layout of every type.

The layout is derived from the models' JSON Schema, so the XSD (``schemas/xsd/v1/edi.xsd``), the
codec and the models cannot drift apart:

- one root element per message kind, named in camelCase (``act_report`` -> ``actReport``);
- each field is a child element named in camelCase, in the models' field order, envelope first;
- a list field is a repeated element named in the singular (``lines`` -> ``line``);
- an optional field that is absent (``null``) is an absent element;
- a choice (the mandate's ``terms``) is a wrapper holding one element named after the variant
  (``<terms><perAct>...</perAct></terms>``), without the ``kind`` field;
- amounts are ``xs:long`` cents, dates ``xs:date``, instants ``xs:dateTime`` with an offset.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, Literal

from pydantic.json_schema import models_json_schema

from schemas.v1.envelope import KINDS, MessageKind
from schemas.v1.kinds import MESSAGE_TYPES

NAMESPACE = "urn:agency-hub:edi:v1"
XSD_PATH = Path(__file__).resolve().parent.parent / "xsd" / "v1" / "edi.xsd"
BATCH_ROOT = "actReportBatch"
"""Root element of a batch file: any number of ``actReport`` elements, each with its own envelope."""
BATCH_RECORD = "actReport"


def camel(name: str) -> str:
    """``fee_budget_cents`` -> ``feeBudgetCents``."""
    first, *rest = name.split("_")
    return first + "".join(part[:1].upper() + part[1:] for part in rest)


# List fields whose name is not a plural: their item's element name.
_ITEM_ELEMENTS = {"path": "step"}  # a receipt proof's path is a list of steps


def singular(name: str) -> str:
    """The element name of one item of a list field: ``act_codes`` -> ``actCode``."""
    if name in _ITEM_ELEMENTS:
        return _ITEM_ELEMENTS[name]
    if not name.endswith("s"):
        raise ValueError(f"list field {name!r} must be named in the plural")
    return camel(name[:-1])


ROOT_ELEMENTS: dict[str, MessageKind] = {camel(kind): kind for kind in KINDS}
"""Root element name -> message kind."""


@dataclass(frozen=True)
class FieldLayout:
    name: str
    """Field name in the model and in JSON."""
    element: str
    """Local name of the XML element."""
    shape: Literal["scalar", "object", "choice"]
    repeated: bool
    min_occurs: int
    max_occurs: int | None
    """None = unbounded."""
    json_type: str = "string"
    """``string``, ``integer`` or ``boolean`` for a scalar."""
    type_name: str | None = None
    """The named type (a model, or an enumeration) when there is one."""
    schema: dict[str, Any] = field(default_factory=dict, compare=False)
    """The JSON Schema of a scalar (or of one item), for its facets."""
    description: str | None = None
    discriminator: str | None = None
    choices: dict[str, tuple[str, str]] = field(default_factory=dict)
    """For a choice: element name -> (discriminator value, type name)."""


@dataclass(frozen=True)
class TypeLayout:
    name: str
    description: str | None
    fields: tuple[FieldLayout, ...]

    def by_element(self) -> dict[str, FieldLayout]:
        """Fields by element name (computed once per type)."""
        cached: dict[str, FieldLayout] | None = self.__dict__.get("_by_element")
        if cached is None:
            cached = {f.element: f for f in self.fields}
            object.__setattr__(self, "_by_element", cached)
        return cached


@dataclass(frozen=True)
class Layout:
    types: dict[str, TypeLayout]
    """Complex types by name (model class names)."""
    enums: dict[str, dict[str, Any]]
    """Enumerations by name -> their JSON Schema."""
    roots: dict[str, str]
    """Root element -> complex type name."""


def json_schema_defs() -> dict[str, Any]:
    """The JSON Schema definitions of every message model, under one set of names."""
    _, top = models_json_schema(
        [(cls, "validation") for cls in MESSAGE_TYPES.values()], ref_template="#/$defs/{model}"
    )
    defs: dict[str, Any] = top["$defs"]
    return defs


def _ref_name(schema: dict[str, Any]) -> str | None:
    if "$ref" in schema:
        return str(schema["$ref"]).rsplit("/", 1)[-1]
    if "allOf" in schema and "$ref" in schema["allOf"][0]:
        return str(schema["allOf"][0]["$ref"]).rsplit("/", 1)[-1]
    return None


def _field(name: str, prop: dict[str, Any], required: bool, defs: dict[str, Any]) -> FieldLayout:
    description = prop.get("description")
    min_occurs = 1 if required else 0
    if "anyOf" in prop:
        options = [o for o in prop["anyOf"] if o.get("type") != "null"]
        if len(options) != 1 or len(prop["anyOf"]) != 2:
            raise ValueError(f"{name}: only 'X | None' unions map to XML")
        prop = {**options[0], **{k: v for k, v in prop.items() if k not in ("anyOf", "default")}}
        min_occurs = 0
    if prop.get("type") == "array":
        item = _field(name, prop["items"], True, defs)
        return FieldLayout(
            name=name,
            element=singular(name),
            shape=item.shape,
            repeated=True,
            min_occurs=int(prop.get("minItems", 0)),
            max_occurs=prop.get("maxItems"),
            json_type=item.json_type,
            type_name=item.type_name,
            schema=item.schema,
            description=description,
        )
    if "oneOf" in prop:
        disc = prop["discriminator"]["propertyName"]
        choices = {}
        for value, ref in prop["discriminator"]["mapping"].items():
            choices[camel(value)] = (value, ref.rsplit("/", 1)[-1])
        return FieldLayout(
            name,
            camel(name),
            "choice",
            False,
            min_occurs,
            1,
            description=description,
            discriminator=disc,
            choices=choices,
        )
    ref = _ref_name(prop)
    if ref is not None:
        target = defs[ref]
        if target.get("type") == "object":
            return FieldLayout(
                name, camel(name), "object", False, min_occurs, 1, type_name=ref, description=description
            )
        return FieldLayout(
            name,
            camel(name),
            "scalar",
            False,
            min_occurs,
            1,
            json_type=target["type"],
            type_name=ref,
            schema=target,
            description=description or target.get("description"),
        )
    json_type = prop.get("type")
    if json_type not in ("string", "integer", "boolean"):
        raise ValueError(f"{name}: JSON type {json_type!r} has no XML form (and floats are forbidden)")
    return FieldLayout(
        name,
        camel(name),
        "scalar",
        False,
        min_occurs,
        1,
        json_type=json_type,
        schema=prop,
        description=description,
    )


@cache
def layout() -> Layout:
    """The XML layout of every v1 type (computed once)."""
    defs = json_schema_defs()
    skip: dict[str, str] = {}
    types: dict[str, TypeLayout] = {}
    enums: dict[str, dict[str, Any]] = {}
    for name, schema in defs.items():
        if schema.get("type") != "object":
            enums[name] = schema
            continue
        required = set(schema.get("required", ()))
        fields = tuple(
            _field(prop, sub, prop in required, defs) for prop, sub in schema["properties"].items()
        )
        for f in fields:
            for _, variant in f.choices.values():
                skip[variant] = f.discriminator or ""
        types[name] = TypeLayout(name, schema.get("description"), fields)
    for variant, disc in skip.items():
        t = types[variant]
        types[variant] = TypeLayout(t.name, t.description, tuple(f for f in t.fields if f.name != disc))
    roots = {camel(kind): cls.__name__ for kind, cls in MESSAGE_TYPES.items()}
    return Layout(types=types, enums=enums, roots=roots)


def without_choice_tags(type_name: str, loc: list[str | int]) -> list[str | int]:
    """A pydantic error location without the variant tags pydantic inserts after a choice field
    (``terms.whole_file.fee_budget_cents`` -> ``terms.fee_budget_cents``), i.e. a path in the data."""
    types = layout().types
    current: TypeLayout | None = types.get(type_name)
    out: list[str | int] = []
    i = 0
    while i < len(loc):
        part = loc[i]
        out.append(part)
        i += 1
        f = next((f for f in current.fields if f.name == part), None) if current is not None else None
        if f is None:
            current = None
            continue
        if f.repeated and i < len(loc) and isinstance(loc[i], int):
            out.append(loc[i])
            i += 1
        if f.shape == "choice":
            variants = {tag: name for tag, name in f.choices.values()}
            if i < len(loc) and isinstance(loc[i], str) and loc[i] in variants:
                current = types[variants[str(loc[i])]]
                i += 1
            else:
                current = None
        else:
            current = types.get(f.type_name or "") if f.shape == "object" else None
    return out
