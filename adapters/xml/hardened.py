"""The one hardened parser for untrusted XML: every XML byte from outside goes through here.

- No entity is expanded (``resolve_entities=False``), no DTD is loaded, nothing is fetched from
  the network (``no_network=True``), and any DOCTYPE is refused outright: an office's message
  never needs one, and refusing it closes XXE, billion laughs and quadratic blow-up at once.
- Depth is capped while parsing (start events are counted), so a 10,000-deep document is refused
  before its tree is built; libxml2's own limits (``huge_tree=False``: 10 MB per text node) stay on.
- Whole documents are capped in bytes before parsing. Streams are read in chunks and yield one
  record at a time, freed after use, so memory stays flat whatever the file size.

Errors come back as ``XmlRejected`` with every error found (at most ``MAX_ERRORS``), each with
a stable code, the line when known and a sentence saying what to change.
"""

from __future__ import annotations

import functools
import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from lxml import etree

MAX_ERRORS = 100
DEFAULT_MAX_BYTES = 10 * 1024 * 1024
DEFAULT_MAX_DEPTH = 100
DEFAULT_MAX_RECORD_BYTES = 1024 * 1024
CHUNK_BYTES = 64 * 1024


@dataclass(frozen=True)
class XmlError:
    line: int | None
    path: str  # XPath-like location ("/actReport/fees/vatCents"); "" when unknown
    code: str  # stable: xml.syntax, xml.doctype_forbidden, xml.too_deep, xml.too_large, ...
    message: str  # what is wrong and what to change


class XmlRejected(ValueError):
    """The XML was refused; ``errors`` lists every error found, capped at ``MAX_ERRORS``."""

    def __init__(self, errors: list[XmlError]) -> None:
        self.errors = list(errors)[:MAX_ERRORS]
        first = self.errors[0].message if self.errors else "invalid XML"
        super().__init__(f"{len(self.errors)} error(s); first: {first}")


def _rejected(code: str, message: str, *, line: int | None = None, path: str = "") -> XmlRejected:
    return XmlRejected([XmlError(line=line, path=path, code=code, message=message)])


def _pull_parser() -> etree.XMLPullParser:
    return etree.XMLPullParser(
        events=("start", "end"),
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        collect_ids=False,
        remove_pis=True,
    )


def _syntax_errors(parser: etree.XMLPullParser, exc: etree.XMLSyntaxError) -> XmlRejected:
    errors: list[XmlError] = []
    for entry in parser.error_log:
        if entry.level < etree.ErrorLevels.ERROR:
            continue
        errors.append(_classify(entry.line or None, entry.message))
    if not errors:
        errors.append(_classify(exc.lineno or None, str(exc)))
    return XmlRejected(errors)


def _classify(line: int | None, message: str) -> XmlError:
    lowered = message.lower()
    if "huge text node" in lowered or "text node too long" in lowered:
        code, text = "xml.text_too_large", "a text node exceeds the parser's limit (10 MB); shorten it"
    elif "resource limit exceeded" in lowered or "huge input lookup" in lowered:
        code, text = "xml.too_large", f"the document exceeds a parser limit: {message.strip()}"
    elif "excessive depth" in lowered:
        code, text = "xml.too_deep", "the document is nested too deeply"
    elif "entity" in lowered and (
        "not defined" in lowered or "loop" in lowered or "amplification" in lowered
    ):
        code, text = "xml.entity_forbidden", f"entities are not allowed: {message.strip()}"
    else:
        code, text = "xml.syntax", f"the XML is not well-formed: {message.strip()}"
    return XmlError(line=line, path="", code=code, message=text)


_DOCTYPE_REFUSED = (
    "xml.doctype_forbidden",
    "a DOCTYPE is not allowed (no DTD, no entity declarations): remove it",
)


def _prolog_has_doctype(head: bytes) -> bool:
    """Whether the prolog (XML declaration, comments, PIs) holds a DOCTYPE: checked on the first
    bytes, so a DOCTYPE is refused before libxml2 reads its declarations at all."""
    position = 0
    while True:
        while position < len(head) and head[position : position + 1] in b" \t\r\n\xef\xbb\xbf":
            position += 1
        if head.startswith(b"<?", position):
            end = head.find(b"?>", position)
        elif head.startswith(b"<!--", position):
            end = head.find(b"-->", position)
        else:
            return head.startswith(b"<!DOCTYPE", position)
        if end < 0:
            return False
        position = end + 2


def _check_prolog(element: etree._Element) -> None:
    docinfo = element.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None or docinfo.externalDTD is not None:
        raise _rejected(*_DOCTYPE_REFUSED, line=1)


def _events(source: BinaryIO, *, max_depth: int) -> Iterator[tuple[str, etree._Element, int]]:
    """(event, element, bytes fed so far) for each start and end, with the hardening checks."""
    parser = _pull_parser()
    depth = 0
    fed = 0
    seen_root = False
    try:
        while True:
            chunk = source.read(CHUNK_BYTES)
            if chunk and fed == 0 and _prolog_has_doctype(chunk):
                raise _rejected(*_DOCTYPE_REFUSED, line=1)
            if chunk:
                fed += len(chunk)
                parser.feed(chunk)
            else:
                parser.close()
            for event, element in parser.read_events():
                if event == "start":
                    if not seen_root:
                        _check_prolog(element)
                        seen_root = True
                    depth += 1
                    if depth > max_depth:
                        raise _rejected(
                            "xml.too_deep",
                            f"elements are nested more than {max_depth} deep; flatten the document",
                            line=element.sourceline,
                        )
                else:
                    depth -= 1
                yield event, element, fed
            if not chunk:
                break
    except etree.XMLSyntaxError as exc:
        raise _syntax_errors(parser, exc) from None
    if not seen_root:
        raise _rejected("xml.empty", "the document has no root element")


def parse_document(
    data: bytes, *, max_bytes: int = DEFAULT_MAX_BYTES, max_depth: int = DEFAULT_MAX_DEPTH
) -> etree._Element:
    """Parses a whole untrusted document and returns its root element."""
    if len(data) > max_bytes:
        raise _rejected(
            "xml.too_large", f"the document is {len(data)} bytes; at most {max_bytes} are accepted"
        )
    if not data.strip():
        raise _rejected("xml.empty", "the document is empty")
    root: etree._Element | None = None
    for event, element, _fed in _events(io.BytesIO(data), max_depth=max_depth):
        if event == "start" and root is None:
            root = element
    assert root is not None  # _events raises xml.empty otherwise
    return root


def _matches(element: etree._Element, record_tag: str) -> bool:
    tag = element.tag
    if not isinstance(tag, str):
        return False
    return tag == record_tag if record_tag.startswith("{") else etree.QName(tag).localname == record_tag


def iterparse_records(
    source: BinaryIO,
    record_tag: str,
    *,
    max_depth: int = DEFAULT_MAX_DEPTH,
    max_record_bytes: int = DEFAULT_MAX_RECORD_BYTES,
) -> Iterator[etree._Element]:
    """Streams a large file and yields each complete ``record_tag`` element in document order.

    ``record_tag`` is a Clark name (``{urn:...}actReport``) or a local name. Each record is freed
    (cleared, earlier siblings removed) once the consumer asks for the next, so memory stays flat.
    The same protections as ``parse_document`` apply; a record larger than ``max_record_bytes``
    stops the stream with ``xml.too_large``.
    """
    started_at: int | None = None
    previous: etree._Element | None = None
    for event, element, fed in _events(source, max_depth=max_depth):
        if not _matches(element, record_tag):
            continue
        if event == "start":
            if started_at is None:
                started_at = fed
            continue
        if started_at is not None and fed - started_at > max_record_bytes + CHUNK_BYTES:
            raise _rejected(
                "xml.too_large",
                f"a record exceeds {max_record_bytes} bytes; split it",
                line=element.sourceline,
            )
        started_at = None
        if previous is not None:
            _free(previous)
        yield element
        previous = element
    if previous is not None:
        _free(previous)


def _free(element: etree._Element) -> None:
    element.clear(keep_tail=False)
    parent = element.getparent()
    if parent is not None:
        while element.getprevious() is not None:
            del parent[0]


@functools.cache
def load_schema(path: str | Path) -> etree.XMLSchema:
    """A trusted XSD, compiled once per process (still parsed without network access)."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    return etree.XMLSchema(etree.parse(str(path), parser))


def validate(schema: etree.XMLSchema, element: etree._Element) -> list[XmlError]:
    """Every schema error of ``element`` (code ``xml.schema``), at most ``MAX_ERRORS``; [] when valid."""
    if schema.validate(element):
        return []
    return [
        XmlError(line=entry.line or None, path=entry.path or "", code="xml.schema", message=entry.message)
        for entry in list(schema.error_log)[:MAX_ERRORS]
    ]
