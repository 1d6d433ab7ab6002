"""The one hardened parser for untrusted XML: every XML byte from outside goes through here.

- No entity is expanded (``resolve_entities=False``), no DTD is loaded, nothing is fetched from
  the network (``no_network=True``), and any DOCTYPE is refused outright: an office's message
  never needs one, and refusing it closes XXE, billion laughs and quadratic blow-up at once. The
  prolog is read (and held back from libxml2) until it is known to hold no DOCTYPE; the tree's
  docinfo is checked again at the root, for encodings the byte scan cannot read.
- Depth is capped while parsing (start events are counted on a pull parser fed in chunks), so a
  10,000-deep document is refused before its tree is built; libxml2's own limits
  (``huge_tree=False``: 10 MB per text node, depth 256) stay on behind ours.
- Whole documents are capped in bytes before parsing. Streams yield one record at a time and free
  it after use, and the bytes held between two records are capped, so memory stays flat whatever
  the file size.

Errors come back as ``XmlRejected`` with every error found (at most ``MAX_ERRORS``), each with
a stable code, the line when known and a sentence saying what to change.
"""

from __future__ import annotations

import functools
import io
import itertools
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from lxml import etree

MAX_ERRORS = 100
DEFAULT_MAX_BYTES = 10 * 1024 * 1024
DEFAULT_MAX_DEPTH = 100
DEFAULT_MAX_RECORD_BYTES = 1024 * 1024
CHUNK_BYTES = 64 * 1024
# How much of a prolog (declaration, comments, PIs) is held back while looking for a DOCTYPE;
# past this the docinfo check at the root still refuses one.
MAX_PROLOG_BYTES = 64 * 1024


@dataclass(frozen=True)
class XmlError:
    line: int | None
    path: str  # XPath-like location ("/actReport/fees/vatCents"); "" when unknown
    code: str  # stable: xml.syntax, xml.doctype_forbidden, xml.too_deep, xml.too_large, ...
    message: str  # what is wrong and what to change


class XmlRejected(ValueError):
    """The XML was refused; ``errors`` lists every error found, capped at ``MAX_ERRORS``."""

    def __init__(self, errors: Iterable[XmlError]) -> None:
        self.errors = list(errors)[:MAX_ERRORS]
        first = self.errors[0].message if self.errors else "invalid XML"
        super().__init__(f"{len(self.errors)} error(s); first: {first}")


def _rejected(code: str, message: str, *, line: int | None = None, path: str = "") -> XmlRejected:
    return XmlRejected([XmlError(line=line, path=path, code=code, message=message)])


def _doctype_refused(line: int | None = None) -> XmlRejected:
    return _rejected(
        "xml.doctype_forbidden",
        "a DOCTYPE is not allowed (no DTD, no entity declarations): remove it",
        line=line,
    )


# --- parsers ---------------------------------------------------------------------------------


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


def _document_parser() -> etree.XMLParser:
    """Same settings as the pull parser; only used to list every syntax error of a document."""
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        collect_ids=False,
        remove_pis=True,
    )


# --- syntax errors ---------------------------------------------------------------------------


def _classify(line: int | None, column: int | None, message: str) -> XmlError:
    """A libxml2 message as a stable code and a sentence saying what to change."""
    lowered = message.lower()
    detail = message.strip() + (f" (column {column})" if column else "")
    if "huge text node" in lowered or "text node too long" in lowered:
        code, text = "xml.text_too_large", "a text node exceeds the parser's limit (10 MB); shorten it"
    elif "resource limit exceeded" in lowered or "huge input lookup" in lowered:
        code, text = "xml.too_large", f"the document exceeds a parser limit: {detail}"
    elif "excessive depth" in lowered:
        code, text = "xml.too_deep", "the document is nested too deeply; flatten it"
    elif "entity" in lowered and any(m in lowered for m in ("not defined", "loop", "amplification")):
        code = "xml.entity_forbidden"
        text = (
            f"{detail}: only the predefined entities (&amp; &lt; &gt; &quot; &apos;) and character "
            "references (&#233;) are allowed; write the character itself instead"
        )
    else:
        code, text = "xml.syntax", f"the XML is not well-formed: {detail}"
    return XmlError(line=line, path="", code=code, message=text)


def _log_errors(log: etree._ListErrorLog) -> list[XmlError]:
    errors: list[XmlError] = []
    seen: set[tuple[int, int, str]] = set()
    for entry in log:
        key = (entry.line, entry.column, entry.message)
        if entry.level < etree.ErrorLevels.ERROR or key in seen:
            continue
        seen.add(key)
        errors.append(_classify(entry.line or None, entry.column or None, entry.message))
    return errors


_POSITION_SUFFIX = re.compile(r", line \d+, column \d+$")


def _stream_errors(parser: etree.XMLPullParser, exc: etree.XMLSyntaxError | None) -> XmlRejected:
    """The error that stopped a pull parser, from its own log (``exc.error_log`` is the thread's
    log, with other parses' entries; and some errors, such as an undefined entity when entities
    are not resolved, stop the parser without raising until ``close``)."""
    errors = _log_errors(parser.feed_error_log)
    if not errors and exc is not None:
        line, column = exc.position
        errors = [_classify(line or None, column or None, _POSITION_SUFFIX.sub("", exc.msg or str(exc)))]
    return XmlRejected(errors or [_classify(None, None, "the parser stopped")])


def _parser_failed(parser: etree.XMLPullParser) -> bool:
    return any(entry.level >= etree.ErrorLevels.ERROR for entry in parser.feed_error_log)


def _every_syntax_error(data: bytes) -> list[XmlError]:
    """Every error of a recover-less whole parse (a pull parser stops at the first one).

    Only run on a document the stream pass already refused, so it is within ``max_bytes`` and
    past the DOCTYPE scan; libxml2's own depth and text limits bound the tree it builds."""
    parser = _document_parser()
    try:
        etree.fromstring(data, parser)
    except etree.XMLSyntaxError:
        pass
    return _log_errors(parser.error_log)


# --- DOCTYPE detection -----------------------------------------------------------------------

_WIDE_ENCODINGS = (
    (b"\x00\x00\xfe\xff", "utf-32-be"),
    (b"\xff\xfe\x00\x00", "utf-32-le"),
    (b"\xfe\xff", "utf-16-be"),
    (b"\xff\xfe", "utf-16-le"),
    (b"\x00<", "utf-16-be"),
    (b"<\x00", "utf-16-le"),
)
_DOCTYPE = "<!DOCTYPE"
_SPACE = " \t\r\n\ufeff"


def _head_text(head: bytes) -> str:
    """The first bytes as text, enough to read a prolog in UTF-8, UTF-16 or UTF-32."""
    for mark, codec in _WIDE_ENCODINGS:
        if head.startswith(mark):
            width = 4 if "32" in codec else 2
            return head[: len(head) - len(head) % width].decode(codec, errors="replace")
    return head.decode("latin-1")  # ASCII-compatible: the markup we look for is ASCII


def _prolog_has_doctype(head: bytes) -> bool | None:
    """Whether the prolog holds a DOCTYPE; None while ``head`` is too short to tell."""
    text = _head_text(head)
    position = 0
    while True:
        while position < len(text) and text[position] in _SPACE:
            position += 1
        for opening, closing in (("<?", "?>"), ("<!--", "-->")):
            if text.startswith(opening, position):
                end = text.find(closing, position + len(opening))
                if end < 0:
                    return None
                position = end + len(closing)
                break
        else:
            rest = text[position : position + len(_DOCTYPE)].upper()
            if rest == _DOCTYPE:
                return True
            return None if _DOCTYPE.startswith(rest) else False


def _checked_chunks(source: BinaryIO) -> Iterator[bytes]:
    """The source in chunks; nothing reaches the parser before the prolog is known DOCTYPE-free."""
    head = b""
    verdict: bool | None = None
    while len(head) < MAX_PROLOG_BYTES:
        chunk = source.read(CHUNK_BYTES)
        if not chunk:
            break
        head += chunk
        verdict = _prolog_has_doctype(head)
        if verdict is not None:
            break
    if verdict:
        text = _head_text(head)
        raise _doctype_refused(line=1 + text.count("\n", 0, text.upper().find(_DOCTYPE)))
    if head:
        yield head
    while chunk := source.read(CHUNK_BYTES):
        yield chunk


def _has_doctype(element: etree._Element) -> bool:
    docinfo = element.getroottree().docinfo
    return bool(docinfo.doctype) or docinfo.internalDTD is not None or docinfo.externalDTD is not None


# --- the guarded event stream ----------------------------------------------------------------


def _events(source: BinaryIO, *, max_depth: int) -> Iterator[tuple[str, etree._Element, int]]:
    """(event, element, bytes fed so far) for each start and end, with the hardening checks.

    Events parsed before a syntax error are still delivered, so a stream yields every record
    before the broken one."""
    parser = _pull_parser()
    depth = 0
    fed = 0
    seen_root = False
    for chunk in itertools.chain(_checked_chunks(source), [b""]):
        failure: etree.XMLSyntaxError | None = None
        try:
            if chunk:
                fed += len(chunk)
                parser.feed(chunk)
            else:
                parser.close()
        except etree.XMLSyntaxError as exc:
            failure = exc
        for event, element in parser.read_events():
            if event == "start":
                if not seen_root:
                    if _has_doctype(element):
                        raise _doctype_refused(line=1)
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
        # Some errors (an undefined entity when entities are not resolved) stop libxml2 without
        # raising: stop reading there too.
        if failure is not None or _parser_failed(parser):
            raise _stream_errors(parser, failure)
    if not seen_root:
        raise _rejected("xml.empty", "the document has no root element; send one message element")


# --- public API ------------------------------------------------------------------------------


def parse_document(
    data: bytes, *, max_bytes: int = DEFAULT_MAX_BYTES, max_depth: int = DEFAULT_MAX_DEPTH
) -> etree._Element:
    """Parses a whole untrusted document and returns its root element.

    A document that is not well-formed is re-read once without streaming, so that every syntax
    error it holds is listed (libxml2 gives up after about 100)."""
    if len(data) > max_bytes:
        raise _rejected(
            "xml.too_large",
            f"the document is {len(data)} bytes; at most {max_bytes} are accepted: split or shorten it",
        )
    if not data.strip():
        raise _rejected("xml.empty", "the document is empty; send one message element")
    root: etree._Element | None = None
    try:
        for event, element, _fed in _events(io.BytesIO(data), max_depth=max_depth):
            if event == "start" and root is None:
                root = element
    except XmlRejected as rejected:
        if rejected.errors[0].code in ("xml.syntax", "xml.entity_forbidden"):
            raise XmlRejected(_every_syntax_error(data) or rejected.errors) from None
        raise
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
    root_tag: str | None = None,
) -> Iterator[etree._Element]:
    """Streams a large file and yields each complete ``record_tag`` element in document order.

    ``record_tag`` (and ``root_tag``, the root the file must have, when given: else the stream
    stops at once with ``xml.unexpected_root``) is a local name (any namespace) or a Clark name
    (``{urn:...}actReport``). Each
    record is freed (cleared, earlier siblings removed) once the consumer asks for the next, so
    memory stays flat. The same protections as ``parse_document`` apply, except that a stream
    stops at its first syntax error. A record, or what lies between two records, larger than
    ``max_record_bytes`` (give or take one read chunk) stops the stream with ``xml.too_large``:
    it is checked while reading, so an endless record is refused before it fills memory.
    """
    window_start = 0  # bytes fed when the last record ended: what is held since then is capped
    previous: etree._Element | None = None
    for event, element, fed in _events(source, max_depth=max_depth):
        if fed - window_start > max_record_bytes + CHUNK_BYTES:
            raise _rejected(
                "xml.too_large",
                f"a record is larger than {max_record_bytes} bytes; split it into smaller records",
                line=element.sourceline,
            )
        if root_tag is not None and event == "start" and element.getparent() is None:
            if not _matches(element, root_tag):
                raise _rejected(
                    "xml.unexpected_root",
                    f"the root element is {_clark_text(element.tag)}; this file must be "
                    f"{_clark_text(root_tag)}",
                    line=element.sourceline,
                    path=f"/{etree.QName(element).localname}",
                )
        if event != "end" or not _matches(element, record_tag):
            continue
        window_start = fed
        if previous is not None:
            _free(previous)
        yield element
        previous = element
    if previous is not None:
        _free(previous)


def _clark_text(tag: object) -> str:
    """``{urn:x}name`` as ``name (namespace urn:x)``, for a person to read."""
    name = etree.QName(str(tag))
    return (
        f"{name.localname} (namespace {name.namespace})"
        if name.namespace
        else f"{name.localname} (no namespace)"
    )


def _free(element: etree._Element) -> None:
    """Drops a consumed record and everything before it, so the tree never grows with the file."""
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
    """Every schema error of ``element`` (code ``xml.schema``), at most ``MAX_ERRORS``; [] when valid.

    Paths are made of local names from ``element`` down (``/actReport/fees/vatCents``), with a
    1-based position where same-named siblings exist; libxml2's own ``/*/*[3]`` steps are resolved
    against the tree."""
    if schema.validate(element):
        return []
    return [
        XmlError(
            line=entry.line or None,
            path=_named_path(element, entry.path or ""),
            code="xml.schema",
            message=entry.message,
        )
        for entry in list(schema.error_log)[:MAX_ERRORS]
    ]


_STEP = re.compile(r"^(?:[^:\[\]]+:)?([^:\[\]]+)(?:\[(\d+)\])?$")


def _named_path(top: etree._Element, path: str) -> str:
    """libxml2's node path (``/*/*[1]/*[6]``, relative to the validated element) in local names;
    the path unchanged when it cannot be resolved."""
    steps = path.split("/")[1:] if path.startswith("/") else []
    node: etree._Element | None = None
    candidates = [top]
    for step in steps:
        match = _STEP.match(step)
        if match is None:
            return path
        name, position = match.group(1), int(match.group(2) or 1)
        named = [c for c in candidates if name == "*" or etree.QName(c).localname == name]
        if not 0 < position <= len(named):
            return path
        node = named[position - 1]
        candidates = list(node.iterchildren(etree.Element))
    if node is None:
        return path
    named_steps: list[str] = []
    current: etree._Element | None = node
    while current is not None:
        local = etree.QName(current).localname
        if current is top:
            named_steps.append(local)
            break
        tag = current.tag
        before = sum(1 for s in current.itersiblings(preceding=True) if s.tag == tag)
        after = any(s.tag == tag for s in current.itersiblings())
        named_steps.append(f"{local}[{before + 1}]" if before or after else local)
        current = current.getparent()
    return "/" + "/".join(reversed(named_steps))
