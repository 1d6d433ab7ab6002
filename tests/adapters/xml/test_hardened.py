"""The hardened parser against a hostile corpus: every item refused by both the document parser and
the stream parser, with a clear code, no file opened and no network connection attempted; then
syntax errors, streaming, memory and schema errors."""

from __future__ import annotations

import io
import json
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

import adapters.xml.hardened as hardened
from adapters.xml.bench import bench_hostile_corpus, load_corpus, refuse
from adapters.xml.hardened import (
    MAX_ERRORS,
    XmlError,
    XmlRejected,
    iterparse_records,
    load_schema,
    parse_document,
    validate,
)
from tests.adapters.xml.generated import GeneratedStream, batch

CORPUS = Path(__file__).parent / "hostile"
REPO = Path(__file__).resolve().parents[3]
EXPECTED = {
    "billion_laughs": "xml.doctype_forbidden",
    "deep_nesting": "xml.too_deep",
    "doctype_after_comment": "xml.doctype_forbidden",
    "external_dtd": "xml.doctype_forbidden",
    "harmless_doctype": "xml.doctype_forbidden",
    "huge_text_node": "xml.text_too_large",
    "quadratic_blowup": "xml.doctype_forbidden",
    "xxe_http": "xml.doctype_forbidden",
    "xxe_local_file": "xml.doctype_forbidden",
    "xxe_parameter_entity": "xml.doctype_forbidden",
}
WITH_DOCTYPE = sorted(name for name, code in EXPECTED.items() if code == "xml.doctype_forbidden")
SECRET = b"TOP-SECRET-MARKER"


@dataclass
class Watch:
    port: int
    connections: int
    fifo: Path
    fifo_opened: threading.Event

    def assert_untouched(self) -> None:
        assert self.connections == 0, "the parser opened a network connection"
        assert not self.fifo_opened.is_set(), "the parser opened a local file"


@pytest.fixture(scope="module")
def watch(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Watch]:
    """A TCP listener counting connections, and a named pipe that tells whether anyone opened it
    (opening a FIFO for reading is what releases the writer thread). The libxml2 in lxml 6 has no
    HTTP client (``etree.LIBXML_FEATURES``), so the listener guards against a future build."""
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(0.2)
    fifo = tmp_path_factory.mktemp("xxe") / "secret"
    os.mkfifo(fifo)
    state = Watch(port=server.getsockname()[1], connections=0, fifo=fifo, fifo_opened=threading.Event())
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except TimeoutError:
                continue
            state.connections += 1
            conn.close()

    def write_secret() -> None:
        while not stop.is_set():  # serve every opener, so a broken parser fails rather than hangs
            fd = os.open(state.fifo, os.O_WRONLY)  # blocks until a reader opens the pipe
            if not stop.is_set():
                state.fifo_opened.set()
            try:
                os.write(fd, SECRET)
            except BrokenPipeError:
                pass
            finally:
                os.close(fd)

    threads = [
        threading.Thread(target=accept, daemon=True),
        threading.Thread(target=write_secret, daemon=True),
    ]
    for thread in threads:
        thread.start()
    yield state
    stop.set()
    os.close(os.open(state.fifo, os.O_RDONLY | os.O_NONBLOCK))  # release the writer
    for thread in threads:
        thread.join(timeout=5)
    server.close()


@pytest.fixture(scope="module")
def corpus(watch: Watch) -> dict[str, bytes]:
    return load_corpus(CORPUS, port=watch.port, file=watch.fifo)


def rejection(parser: str, data: bytes, **limits: int) -> XmlRejected:
    with pytest.raises(XmlRejected) as raised:
        if parser == "document":
            parse_document(data, **limits)
        else:
            list(iterparse_records(io.BytesIO(data), "actReport", **limits))
    return raised.value


class Trickle(io.RawIOBase):
    """A stream that hands out one byte per read, like a slow socket."""

    def __init__(self, data: bytes) -> None:
        self._data = io.BytesIO(data)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        byte = self._data.read(1)
        memoryview(buffer).cast("B")[: len(byte)] = byte
        return len(byte)


# --- the hostile corpus ----------------------------------------------------------------------


def test_the_corpus_is_complete(corpus: dict[str, bytes]) -> None:
    assert set(corpus) == set(EXPECTED)
    assert len(corpus["huge_text_node"]) > 50 * 1024 * 1024


@pytest.mark.parametrize("parser", ["document", "iterparse"])
@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_hostile_input_is_refused_without_reading_files_or_the_network(
    corpus: dict[str, bytes], watch: Watch, name: str, parser: str
) -> None:
    data = corpus[name]
    rejected = rejection(parser, data, **({"max_bytes": len(data)} if parser == "document" else {}))
    [error] = rejected.errors
    assert error.code == EXPECTED[name]
    assert error.message and SECRET.decode() not in str(rejected)
    watch.assert_untouched()


def test_refusals_say_what_to_change(corpus: dict[str, bytes]) -> None:
    [doctype] = rejection("document", corpus["harmless_doctype"]).errors
    assert doctype == XmlError(
        line=2,
        path="",
        code="xml.doctype_forbidden",
        message="a DOCTYPE is not allowed (no DTD, no entity declarations): remove it",
    )
    [deep] = rejection("iterparse", corpus["deep_nesting"]).errors
    assert deep.message == "elements are nested more than 100 deep; flatten the document"
    assert deep.line == 2


@pytest.mark.parametrize("parser", ["document", "iterparse"])
@pytest.mark.parametrize("name", WITH_DOCTYPE)
def test_libxml2_settings_and_the_root_check_hold_without_the_prolog_scan(
    corpus: dict[str, bytes], watch: Watch, name: str, parser: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Second line of defence, for an encoding the byte scan cannot read: libxml2 sees the DOCTYPE
    but loads nothing, expands nothing, fetches nothing; the docinfo check at the root refuses."""
    monkeypatch.setattr(hardened, "_prolog_has_doctype", lambda head: False)
    assert rejection(parser, corpus[name]).errors[0].code == "xml.doctype_forbidden"
    watch.assert_untouched()


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be", "utf-32"])
@pytest.mark.parametrize("parser", ["document", "iterparse"])
def test_the_prolog_scan_reads_wide_encodings(
    corpus: dict[str, bytes], watch: Watch, encoding: str, parser: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(hardened, "_has_doctype", lambda element: False)  # only the scan may refuse
    label = "UTF-32" if "32" in encoding else "UTF-16"
    text = corpus["xxe_local_file"].decode()
    text = text.replace('<?xml version="1.0"?>', f'<?xml version="1.0" encoding="{label}"?>')
    assert rejection(parser, text.encode(encoding)).errors[0].code == "xml.doctype_forbidden"
    watch.assert_untouched()


@pytest.mark.parametrize("name", WITH_DOCTYPE)
def test_a_doctype_is_refused_even_when_the_stream_trickles(
    corpus: dict[str, bytes], watch: Watch, name: str
) -> None:
    with pytest.raises(XmlRejected) as raised:
        list(iterparse_records(Trickle(corpus[name]), "actReport"))
    assert raised.value.errors[0].code == "xml.doctype_forbidden"
    watch.assert_untouched()


def test_xinclude_is_not_processed(watch: Watch) -> None:
    include = f'<xi:include href="file://{watch.fifo}" parse="text"/>'
    data = f'<r xmlns:xi="http://www.w3.org/2001/XInclude">{include}</r>'.encode()
    root = parse_document(data)
    assert SECRET.decode() not in (root[0].text or "")
    watch.assert_untouched()


def test_the_size_cap_is_checked_before_parsing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(hardened, "_events", lambda *a, **k: pytest.fail("parsed an oversized document"))
    [error] = rejection("document", b"<r>" + b"a" * 2000 + b"</r>", max_bytes=1000).errors
    assert error.code == "xml.too_large"
    assert "2007 bytes; at most 1000" in error.message


# --- well-formed and malformed documents ------------------------------------------------------


def test_well_formed_documents_parse() -> None:
    root = parse_document(
        '<?xml version="1.0"?>\n<r a="1"><é>ü &amp; &#233;</é><?pi x?><!-- c --></r>'.encode()
    )
    assert root.tag == "r" and root.get("a") == "1"
    assert root[0].text == "ü & é"
    assert [child.tag for child in root][:1] == ["é"] and len(root) == 2  # the PI is dropped


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"", "xml.empty"),
        (b"  \n\t", "xml.empty"),
        (b'<?xml version="1.0"?>', "xml.syntax"),
        (b"<!-- only a comment -->", "xml.syntax"),
    ],
)
def test_empty_documents_are_refused(data: bytes, code: str) -> None:
    assert [e.code for e in rejection("document", data).errors] == [code]


def test_every_syntax_error_is_listed_with_its_line() -> None:
    data = (
        b'<?xml version="1.0"?>\n'
        b"<actReport>\n"
        b"  <a>x</b>\n"  # 3: tag mismatch
        b"  <c d=1/>\n"  # 4: unquoted attribute
        b"  <e>&nbsp;</e>\n"  # 5: an entity that is not predefined
        b'  <f g="1" g="2"/>\n'  # 6: attribute given twice
        b"</actReport>\n"
    )
    errors = rejection("document", data).errors
    assert sorted({(e.line, e.code) for e in errors}) == [
        (3, "xml.syntax"),
        (4, "xml.syntax"),
        (5, "xml.entity_forbidden"),
        (6, "xml.syntax"),
    ]
    assert all(e.path == "" and e.message for e in errors)
    assert "Opening and ending tag mismatch" in errors[0].message
    assert "write the character itself" in next(e.message for e in errors if e.line == 5)


def test_syntax_errors_are_capped() -> None:
    data = b"<r>" + b"\n<b>&undefined;</b>" * 150 + b"\n</r>"
    errors = rejection("document", data).errors
    assert len(errors) == MAX_ERRORS
    assert [e.line for e in errors] == list(range(2, 2 + MAX_ERRORS))
    assert len(XmlRejected([errors[0]] * 150).errors) == MAX_ERRORS


@pytest.mark.parametrize("parser", ["document", "iterparse"])
def test_undefined_entities_are_refused(parser: str) -> None:
    [error] = rejection(parser, b"<actReport>\n<n>&undefined;</n>\n</actReport>").errors
    assert (error.code, error.line) == ("xml.entity_forbidden", 2)


@pytest.mark.parametrize("parser", ["document", "iterparse"])
def test_the_depth_limit_is_configurable(parser: str) -> None:
    nested = b"<actReport>" * 5 + b"</actReport>" * 5
    assert parse_document(nested, max_depth=5).tag == "actReport"
    assert len(list(iterparse_records(io.BytesIO(nested), "actReport", max_depth=5))) == 5
    assert rejection(parser, nested, max_depth=4).errors[0].code == "xml.too_deep"


# --- streaming -------------------------------------------------------------------------------


def test_records_are_streamed_in_order() -> None:
    seen = [int(r.findtext("n") or -1) for r in iterparse_records(batch(3_000), "actReport")]
    assert seen == list(range(3_000))


def test_records_arrive_whole_even_when_the_stream_trickles() -> None:
    data = b'<?xml version="1.0"?>\n<!-- hello -->\n<b><actReport><n>1</n></actReport><actReport/></b>'
    assert [r.findtext("n") for r in iterparse_records(Trickle(data), "actReport")] == ["1", None]


def test_records_match_by_local_name_in_any_namespace_or_by_clark_name() -> None:
    data = b'<b xmlns="urn:x"><rec>1</rec><other>no</other><rec>2</rec></b>'
    assert [r.text for r in iterparse_records(io.BytesIO(data), "rec")] == ["1", "2"]
    assert [r.text for r in iterparse_records(io.BytesIO(data), "{urn:x}rec")] == ["1", "2"]
    assert [r.text for r in iterparse_records(io.BytesIO(data), "{urn:other}rec")] == []


def test_a_stream_yields_the_records_before_a_syntax_error() -> None:
    data = b"<b>" + b"<actReport>ok</actReport>" * 3 + b"<actReport></oops>" + b"<actReport/>" * 3 + b"</b>"
    seen: list[str | None] = []
    with pytest.raises(XmlRejected) as raised:
        for record in iterparse_records(io.BytesIO(data), "actReport"):
            seen.append(record.text)
    assert seen == ["ok", "ok", "ok"]
    assert raised.value.errors[0].code == "xml.syntax"


def test_consumed_records_are_dropped_from_the_tree() -> None:
    """At each record, only the previous one (already emptied) is still before it in the tree."""
    for position, record in enumerate(iterparse_records(batch(5_000), "actReport")):
        parent = record.getparent()
        assert parent is not None
        assert parent.index(record) == min(position, 1)
        previous = record.getprevious()
        assert previous is None or (len(previous) == 0 and previous.text is None)
        assert record.findtext("n") == str(position)  # the consumer's record is whole


def test_memory_stays_flat_in_file_size() -> None:
    """Peak RSS growth while streaming 20 k and 200 k records, each in a fresh process (peak RSS
    only grows), compared with each other: ten times the records must not cost ten times the
    memory. Holding the records would grow about eight bytes of memory per byte read."""
    probes = [
        subprocess.Popen(
            [sys.executable, "-m", "tests.adapters.xml.generated", str(count)],
            cwd=REPO,
            stdout=subprocess.PIPE,
            text=True,
        )
        for count in (20_000, 200_000)
    ]
    small, large = (json.loads(probe.communicate(timeout=120)[0]) for probe in probes)
    assert (small["records"], large["records"]) == (20_000, 200_000)
    extra_kib = (large["bytes"] - small["bytes"]) / 1024
    assert large["growth_kib"] - small["growth_kib"] < extra_kib / 10, (small, large)


def test_an_oversized_record_stops_the_stream() -> None:
    data = b"<b><actReport>ok</actReport><actReport>" + b"x" * 300_000 + b"</actReport></b>"
    seen = []
    with pytest.raises(XmlRejected) as raised:
        for record in iterparse_records(io.BytesIO(data), "actReport", max_record_bytes=100_000):
            seen.append(record.text)
    assert seen == ["ok"]
    assert raised.value.errors[0].code == "xml.too_large"
    assert "split it into smaller records" in raised.value.errors[0].message


@pytest.mark.parametrize(
    "opening",
    [b"<b><actReport>", b"<b><header>"],
    ids=["inside a record", "between records"],
)
def test_an_endless_stream_is_refused_while_reading(opening: bytes) -> None:
    """Many small elements in one record (or outside any record) never end: refused after about
    ``max_record_bytes``, not after the file, so memory is bounded before the end arrives."""
    stream = GeneratedStream(_endless(opening))
    with pytest.raises(XmlRejected) as raised:
        list(iterparse_records(io.BufferedReader(stream), "actReport", max_record_bytes=200_000))
    assert raised.value.errors[0].code == "xml.too_large"
    assert stream.size < 200_000 + 3 * hardened.CHUNK_BYTES


def _endless(opening: bytes) -> Iterator[bytes]:
    yield opening
    while True:
        yield b"<line>some text</line>"


# --- schemas ---------------------------------------------------------------------------------


def _schema(tmp_path: Path, *, namespace: str = "") -> Path:
    target = f' targetNamespace="{namespace}" xmlns="{namespace}" elementFormDefault="qualified"'
    xsd = tmp_path / f"n{len(namespace)}.xsd"
    xsd.write_text(
        f'<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema"{target if namespace else ""}>'
        '<xs:element name="r"><xs:complexType><xs:sequence>'
        '<xs:element name="head"><xs:complexType><xs:sequence>'
        '<xs:element name="id" type="xs:int"/></xs:sequence></xs:complexType></xs:element>'
        '<xs:element name="n" type="xs:int" maxOccurs="unbounded"/>'
        "</xs:sequence></xs:complexType></xs:element></xs:schema>"
    )
    return xsd


def test_schemas_are_compiled_once(tmp_path: Path) -> None:
    xsd = _schema(tmp_path)
    assert load_schema(xsd) is load_schema(xsd)


def test_schema_errors_are_all_listed_with_local_name_paths(tmp_path: Path) -> None:
    schema = load_schema(_schema(tmp_path))
    assert validate(schema, parse_document(b"<r><head><id>1</id></head><n>1</n></r>")) == []
    found = validate(schema, parse_document(b"<r>\n<head><id>x</id></head>\n<n>x</n><n>2</n>\n<n>y</n></r>"))
    assert [(e.code, e.line, e.path) for e in found] == [
        ("xml.schema", 2, "/r/head/id"),
        ("xml.schema", 3, "/r/n[1]"),
        ("xml.schema", 4, "/r/n[3]"),
    ]
    assert all("is not a valid value" in e.message for e in found)


def test_schema_error_paths_have_no_namespaces(tmp_path: Path) -> None:
    schema = load_schema(_schema(tmp_path, namespace="urn:agency-hub:edi:v1"))
    data = b'<r xmlns="urn:agency-hub:edi:v1"><head><id>x</id></head><n>1</n><n>z</n></r>'
    assert [e.path for e in validate(schema, parse_document(data))] == ["/r/head/id", "/r/n[2]"]


def test_schema_errors_of_a_streamed_record_are_relative_to_it(tmp_path: Path) -> None:
    schema = load_schema(_schema(tmp_path))
    data = b"<batch><r><head><id>1</id></head><n>1</n></r><r><head><id>1</id></head><n>x</n></r></batch>"
    found = [[e.path for e in validate(schema, r)] for r in iterparse_records(io.BytesIO(data), "r")]
    assert found == [[], ["/r/n"]]


def test_schema_errors_are_capped(tmp_path: Path) -> None:
    schema = load_schema(_schema(tmp_path))
    many = parse_document(b"<r><head><id>1</id></head>" + b"<n>x</n>" * 150 + b"</r>")
    errors = validate(schema, many)
    assert len(errors) == MAX_ERRORS
    assert errors[-1].path == f"/r/n[{MAX_ERRORS}]"


# --- bench -----------------------------------------------------------------------------------


def test_the_bench_refuses_every_corpus_item_with_both_parsers() -> None:
    rows = bench_hostile_corpus()
    assert {(row["name"], row["parser"]) for row in rows} == {
        (name, parser) for name in EXPECTED for parser in ("document", "iterparse")
    }
    assert all(row["refused"] and row["code"] == EXPECTED[str(row["name"])] for row in rows)
    assert all(isinstance(row["ms"], float) for row in rows)  # reported, never asserted on


def test_refuse_reports_acceptance() -> None:
    assert refuse("document", b"<actReport/>") is None
    assert refuse("iterparse", b"<b><actReport/></b>") is None
