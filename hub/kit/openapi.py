"""What /openapi.json says about bodies FastAPI does not see: the request bodies of routes that read
the raw bytes themselves (a v1 message, a batch file), and the problem+json answer of every error.

Their JSON Schemas are inlined (no ``$defs``): a schema given through ``openapi_extra`` or under a
media type of ``responses`` stands alone in the document, where ``#/$defs/...`` would point at the
document's root."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from hub.kit.errors import MAX_ERRORS, PROBLEM_TYPE_BASE
from hub.kit.http import PROBLEM_JSON

CODE_PATTERN = r"^[a-z][a-z0-9_.]{1,63}$"


def inline_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """``schema`` with every ``#/$defs/Name`` reference replaced by its definition (the models of the
    hub are not recursive); a reference's sibling keywords (description, default) are kept."""
    definitions: dict[str, Any] = schema.get("$defs", {})

    def resolve(node: Any) -> Any:
        if isinstance(node, list):
            return [resolve(item) for item in node]
        if not isinstance(node, dict):
            return node
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/$defs/"):
            siblings = {key: value for key, value in node.items() if key != "$ref"}
            return resolve({**definitions[ref.removeprefix("#/$defs/")], **siblings})
        return {key: resolve(value) for key, value in node.items() if key != "$defs"}

    inlined: dict[str, Any] = resolve(schema)
    return inlined


def schema_of(
    model: type[BaseModel], mode: Literal["validation", "serialization"] = "validation"
) -> dict[str, Any]:
    """The JSON Schema of ``model``, standing alone: what it accepts (``validation``, for a request
    body) or what it writes (``serialization``, for a response)."""
    return inline_schema(model.model_json_schema(mode=mode))


def request_body(content: dict[str, dict[str, Any]], description: str | None = None) -> dict[str, Any]:
    """``openapi_extra`` of a route that reads its body itself: media type -> JSON Schema."""
    body: dict[str, Any] = {
        "required": True,
        "content": {media_type: {"schema": schema} for media_type, schema in content.items()},
    }
    if description:
        body["description"] = description
    return {"requestBody": body}


class ProblemItem(BaseModel):
    """One error of a problem: where, a stable code, and what to change."""

    model_config = ConfigDict(extra="forbid")

    path: str = Field(description="Where: a field path, a JSON Pointer or an XPath-like path; `/` for all")
    code: str = Field(pattern=CODE_PATTERN)
    message: str
    line: int | None = Field(None, ge=1, description="The line in the XML document, when known")


class Problem(BaseModel):
    """RFC 9457 ``application/problem+json``: every error of the hub."""

    model_config = ConfigDict(extra="forbid")

    type: str = Field(pattern="^" + PROBLEM_TYPE_BASE.replace(".", r"\.") + "[a-z][a-z0-9_.]+$")
    title: str
    status: int = Field(ge=400, le=599)
    detail: str
    code: str = Field(pattern=CODE_PATTERN, description="Stable and machine-readable")
    errors: list[ProblemItem] = Field(max_length=MAX_ERRORS, description="Every error found")


def problems(descriptions: dict[int, str], model: type[Problem] = Problem) -> dict[int | str, dict[str, Any]]:
    """``responses`` entries: each status answered with ``model`` as problem+json."""
    schema = {"schema": schema_of(model, mode="serialization")}
    return {
        status: {"description": description, "content": {PROBLEM_JSON: schema}}
        for status, description in descriptions.items()
    }
