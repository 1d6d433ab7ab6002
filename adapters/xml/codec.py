"""The canonical XML codec of the v1 messages (``schemas/xsd/v1/edi.xsd``, ``urn:agency-hub:edi:v1``).

``decode`` reads one message: hardened parse, XSD validation, then the pydantic model; whatever is
wrong is reported at once in ``XmlRejected.errors`` (at most ``MAX_ERRORS``), each with the path of
the element in the document (``/feeInvoice/line[2]/netCents``) and its line when known.
``encode`` writes a message deterministically (UTF-8, XML declaration, default namespace, elements in
the contract's order, two-space indentation). ``decode_batch_records`` streams an ``actReportBatch``
file record by record, so a bad record is reported on its own and memory stays flat.
"""

from __future__ import annotations

import copy
import io
import json
import re
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, BinaryIO, cast

from lxml import etree
from pydantic import ValidationError

from adapters.xml.hardened import (
    MAX_ERRORS,
    XmlError,
    XmlRejected,
    iterparse_records,
    load_schema,
    parse_document,
    validate,
)
from schemas.v1 import MESSAGE_TYPES, ActReport, Message, MessageModel
from schemas.v1.errors import error_location
from schemas.v1.xml_form import (
    BATCH_RECORD,
    BATCH_ROOT,
    NAMESPACE,
    ROOT_ELEMENTS,
    XSD_PATH,
    FieldLayout,
    TypeLayout,
    camel,
    layout,
)

__all__ = [
    "CONTENT_TYPE",
    "MAX_ERRORS",
    "NAMESPACE",
    "XmlError",
    "XmlRejected",
    "decode",
    "decode_batch_records",
    "decode_element",
    "encode",
    "encode_batch",
    "write_batch",
]

CONTENT_TYPE = "application/xml"
_NS = f"{{{NAMESPACE}}}"
_NSMAP: Any = {None: NAMESPACE}
_POSITIONAL_PATH = re.compile(r"^(/\*(\[\d+\])?)+$")


def schema() -> etree.XMLSchema:
    """The compiled XSD of every v1 message (compiled once by the hardened loader)."""
    return load_schema(XSD_PATH)


def _local(element: etree._Element) -> str:
    return etree.QName(element).localname


def _line(element: etree._Element) -> int | None:
    line: object = element.sourceline
    return line if isinstance(line, int) else None


def _root_kind(element: etree._Element, path: str) -> type[MessageModel]:
    qname = etree.QName(element)
    kind = ROOT_ELEMENTS.get(qname.localname) if qname.namespace == NAMESPACE else None
    if kind is None:
        expected = ", ".join(ROOT_ELEMENTS)
        raise XmlRejected(
            [
                XmlError(
                    line=_line(element),
                    path=path,
                    code="xml.unknown_root",
                    message=f"the root element must be one of {expected} in namespace {NAMESPACE}",
                )
            ]
        )
    return MESSAGE_TYPES[kind]


# --- decoding -------------------------------------------------------------------------------


# How ``_read`` reads a child element: its text as is, as an integer or a boolean, or an object or a
# choice of its own.
_STRING, _INTEGER, _BOOLEAN, _OBJECT, _CHOICE = range(5)
_KINDS = {"integer": _INTEGER, "boolean": _BOOLEAN}
# Per type, what to do with each child tag: (field name, kind, repeated, the object's type name or the
# choice's field), worked out once from the layout (a record's twenty elements each looked up the
# field's shape, type and repetition, attribute by attribute).
_Step = tuple[str, int, bool, Any]
_PLANS: dict[str, dict[str, _Step]] = {}


def _plan(type_layout: TypeLayout) -> dict[str, _Step]:
    plan = _PLANS.get(type_layout.name)
    if plan is None:
        plan = {}
        for f in type_layout.fields:
            if f.shape == "object":
                step: _Step = (f.name, _OBJECT, f.repeated, f.type_name)
            elif f.shape == "choice":
                step = (f.name, _CHOICE, f.repeated, f)
            else:
                step = (f.name, _KINDS.get(f.json_type, _STRING), f.repeated, None)
            plan[_NS + f.element] = step
        _PLANS[type_layout.name] = plan
    return plan


def _read(element: etree._Element, type_layout: TypeLayout) -> dict[str, Any]:
    # The XSD has accepted the structure already: every child is a known field, in order.
    plan = _plan(type_layout)
    data: dict[str, Any] = {}
    for child in element:
        step = plan.get(child.tag)  # type: ignore[arg-type]  # a comment's tag is a function: None
        if step is None:  # a comment (or a processing instruction): not a field
            continue
        name, kind, repeated, detail = step
        if kind == _STRING:
            value: Any = child.text or ""
        elif kind == _INTEGER:
            value = int((child.text or "").strip())
        elif kind == _OBJECT:
            value = _read(child, layout().types[detail])
        elif kind == _BOOLEAN:
            value = (child.text or "").strip() in ("true", "1")
        else:
            f = cast(FieldLayout, detail)
            variant = next(child.iterchildren(tag=etree.Element))
            tag, type_name = f.choices[_local(variant)]
            value = {cast(str, f.discriminator): tag, **_read(variant, layout().types[type_name])}
        if repeated:
            data.setdefault(name, []).append(value)
        else:
            data[name] = value
    return data


def _element_path(node: etree._Element, top: etree._Element, top_path: str) -> str | None:
    """The named path of ``node`` below ``top`` (``/feeInvoice/line[2]/netCents``), or None.

    A list item always carries its 1-based position, as in the paths of model errors."""
    chain: list[etree._Element] = []
    current: etree._Element | None = node
    while current is not None and current is not top:
        chain.append(current)
        current = current.getparent()
    if current is None:
        return None
    path = top_path
    type_layout: TypeLayout | None = layout().types.get(layout().roots.get(_local(top), ""))
    choice: dict[str, tuple[str, str]] = {}
    for element in reversed(chain):
        name = _local(element)
        if name in choice:
            path += f"/{name}"
            type_layout, choice = layout().types[choice[name][1]], {}
            continue
        f = type_layout.by_element().get(name) if type_layout is not None else None
        if f is not None and f.repeated:
            position = len(list(element.itersiblings(cast(str, element.tag), preceding=True))) + 1
            path += f"/{name}[{position}]"
        else:
            path += f"/{name}"
        choice = f.choices if f is not None else {}
        type_layout = layout().types.get(f.type_name or "") if f is not None and f.shape == "object" else None
    return path


def _located(error: XmlError, top: etree._Element, top_path: str) -> XmlError:
    """The error with a named path (libxml2 reports positional ones such as ``/*/*[3]``)."""
    path = error.path
    node: etree._Element | None = None
    if _POSITIONAL_PATH.match(path):
        found = top.getroottree().xpath(path)
        if isinstance(found, list) and len(found) == 1 and isinstance(found[0], etree._Element):
            node = found[0]
    named = _element_path(node, top, top_path) if node is not None else None
    if named is None:
        own_root = f"/{_local(top)}"
        if path == own_root or path.startswith(own_root + "/"):
            named = top_path + path[len(own_root) :]
        else:
            named = path
    line = error.line if error.line is not None else (_line(node) if node is not None else None)
    return XmlError(line=line, path=named, code=error.code, message=error.message)


def _walk(top: etree._Element, top_path: str, loc: Sequence[str | int]) -> tuple[str, int | None]:
    """The XML path and line of a pydantic error location inside the message ``top``."""
    path = top_path
    node: etree._Element | None = top
    line = _line(top)
    type_layout: TypeLayout | None = layout().types[layout().roots[_local(top)]]
    parts = list(loc)
    i = 0
    while i < len(parts):
        part = parts[i]
        f = {f.name: f for f in type_layout.fields}.get(str(part)) if type_layout is not None else None
        if f is None:
            path += f"/{camel(str(part))}" if isinstance(part, str) else f"[{part + 1}]"
            node, type_layout = None, None
            i += 1
            continue
        if f.repeated and i + 1 < len(parts) and isinstance(parts[i + 1], int):
            index = cast(int, parts[i + 1])
            path += f"/{f.element}[{index + 1}]"
            children = list(node.iterchildren(_NS + f.element)) if node is not None else []
            node = children[index] if index < len(children) else None
            i += 2
        else:
            path += f"/{f.element}"
            node = node.find(_NS + f.element) if node is not None else None
            i += 1
        if f.shape == "choice" and i < len(parts) and isinstance(parts[i], str):
            tag = cast(str, parts[i])
            variant = next(((e, t) for e, (v, t) in f.choices.items() if v == tag), None)
            if variant is not None:
                path += f"/{variant[0]}"
                node = node.find(_NS + variant[0]) if node is not None else None
                type_layout = layout().types[variant[1]]
                i += 1
                continue
        type_layout = layout().types.get(f.type_name or "") if f.shape == "object" else None
        if node is not None and _line(node) is not None:
            line = _line(node)
    return path, line


def _model_errors(exc: ValidationError, top: etree._Element, top_path: str) -> list[XmlError]:
    errors = []
    for err in exc.errors(include_url=False)[:MAX_ERRORS]:
        loc = error_location(err["loc"], err.get("ctx"))
        path, line = _walk(top, top_path, loc)
        code = err["type"] if "." in err["type"] else "xml.schema"
        errors.append(XmlError(line=line, path=path, code=code, message=err["msg"]))
    return errors


def decode_element(element: etree._Element, *, path: str | None = None) -> Message:
    """Validate and read one message element (already parsed by the hardened parser).

    ``path`` is where the element sits, for error paths (default ``/<root>``).
    """
    top_path = path or f"/{_local(element)}"
    cls = _root_kind(element, top_path)
    found = validate(schema(), element)
    if found:
        raise XmlRejected([_located(e, element, top_path) for e in found[:MAX_ERRORS]])
    data = _read(element, layout().types[cls.__name__])
    try:
        message = cls.model_validate_json(json.dumps(data))
    except ValidationError as exc:
        raise XmlRejected(_model_errors(exc, element, top_path)) from None
    return cast(Message, message)


def decode(data: bytes) -> Message:
    """Read one v1 message from untrusted XML bytes; raises ``XmlRejected`` listing every error."""
    return decode_element(parse_document(data))


def decode_batch_records(stream: BinaryIO) -> Iterator[Message | XmlRejected]:
    """Read an ``actReportBatch`` file as a stream: one act report or one ``XmlRejected`` per record.

    Each record is validated on its own (error paths ``/actReportBatch/actReport[n]/...``), so a bad
    record does not stop the batch. A file that cannot be read any further (not well-formed, too deep,
    a DOCTYPE...) raises ``XmlRejected`` after the records read so far.
    """
    for index, record in enumerate(iterparse_records(stream, _NS + BATCH_RECORD), start=1):
        top_path = f"/{BATCH_ROOT}/{BATCH_RECORD}[{index}]"
        parent = record.getparent()
        if parent is None or parent.tag != _NS + BATCH_ROOT or parent.getparent() is not None:
            yield XmlRejected(
                [
                    XmlError(
                        line=_line(record),
                        path=top_path,
                        code="xml.batch_structure",
                        message=f"act reports of a batch must be children of the root {BATCH_ROOT}",
                    )
                ]
            )
            continue
        # A standalone copy: validation and error paths see the record as its own document.
        standalone = copy.deepcopy(record)
        try:
            yield decode_element(standalone, path=top_path)
        except XmlRejected as rejected:
            yield rejected


# --- encoding -------------------------------------------------------------------------------


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _write(parent: etree._Element, data: dict[str, Any], type_layout: TypeLayout) -> None:
    for f in type_layout.fields:
        value = data.get(f.name)
        if value is None:
            continue
        for item in value if f.repeated else [value]:
            child = etree.SubElement(parent, _NS + f.element)
            if f.shape == "object":
                _write(child, item, layout().types[cast(str, f.type_name)])
            elif f.shape == "choice":
                tag = item[cast(str, f.discriminator)]
                element, type_name = next((e, t) for e, (v, t) in f.choices.items() if v == tag)
                _write(etree.SubElement(child, _NS + element), item, layout().types[type_name])
            else:
                child.text = _text(item)


def _build(message: MessageModel) -> etree._Element:
    root_name = camel(message.KIND)
    root = etree.Element(_NS + root_name, nsmap=_NSMAP)
    _write(root, message.model_dump(mode="json"), layout().types[layout().roots[root_name]])
    return root


def encode(message: Message) -> bytes:
    """The canonical XML of a message: byte-for-byte the same for equal messages."""
    root = _build(message)
    etree.indent(root, space="  ")
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def write_batch(reports: Iterable[ActReport], sink: BinaryIO) -> None:
    """Write an ``actReportBatch`` file to ``sink`` incrementally (memory flat in the number of reports)."""
    with etree.xmlfile(sink, encoding="UTF-8") as xf:
        xf.write_declaration()
        with xf.element(_NS + BATCH_ROOT, nsmap=_NSMAP):
            xf.write("\n")
            for report in reports:
                record = _build(report)
                etree.indent(record, space="  ", level=1)
                xf.write("  ", record, "\n")


def encode_batch(reports: Iterable[ActReport]) -> bytes:
    """An ``actReportBatch`` document in memory (for tests and small batches; see ``write_batch``)."""
    sink = io.BytesIO()
    write_batch(reports, sink)
    return sink.getvalue()
