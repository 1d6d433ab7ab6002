"""The hardened parser against a hostile corpus: every item refused by both the document parser and
the stream parser, with a clear code, no file read and no network connection attempted."""

from __future__ import annotations

import io
import os
import socket
import threading
import tracemalloc
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from adapters.xml.bench import load_corpus, refuse
from adapters.xml.hardened import (
    MAX_ERRORS,
    XmlRejected,
    iterparse_records,
    load_schema,
    parse_document,
    validate,
)

CORPUS = Path(__file__).parent / "hostile"
EXPECTED = {
    "billion_laughs": "xml.doctype_forbidden",
    "deep_nesting": "xml.too_deep",
    "external_dtd": "xml.doctype_forbidden",
    "harmless_doctype": "xml.doctype_forbidden",
    "huge_text_node": "xml.text_too_large",
    "quadratic_blowup": "xml.doctype_forbidden",
    "xxe_http": "xml.doctype_forbidden",
    "xxe_local_file": "xml.doctype_forbidden",
    "xxe_parameter_entity": "xml.doctype_forbidden",
}


@dataclass
class Watch:
    port: int
    connections: int
    fifo: Path
    fifo_opened: threading.Event


@pytest.fixture(scope="module")
def watch(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Watch]:
    """A TCP listener counting connections, and a named pipe that tells whether anyone opened it."""
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(0.2)
    state = Watch(port=server.getsockname()[1], connections=0, fifo=tmp_path_factory.mktemp("x") / "secret",
                  fifo_opened=threading.Event())  # fmt: skip
    os.mkfifo(state.fifo)
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
        fd = os.open(state.fifo, os.O_WRONLY)  # blocks until a reader opens the pipe
        state.fifo_opened.set()
        try:
            os.write(fd, b"TOP-SECRET-MARKER")
        except BrokenPipeError:
            pass  # our own release at teardown
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
    if not state.fifo_opened.is_set():
        os.close(os.open(state.fifo, os.O_RDONLY | os.O_NONBLOCK))  # release the writer
    for thread in threads:
        thread.join(timeout=5)
    server.close()


@pytest.fixture(scope="module")
def corpus(watch: Watch) -> dict[str, bytes]:
    return load_corpus(CORPUS, port=watch.port, file=watch.fifo)


def test_the_corpus_is_complete(corpus: dict[str, bytes]) -> None:
    assert set(corpus) == set(EXPECTED)


@pytest.mark.parametrize("parser", ["document", "iterparse"])
@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_hostile_input_is_refused_without_reading_files_or_the_network(
    corpus: dict[str, bytes], watch: Watch, name: str, parser: str
) -> None:
    assert refuse(parser, corpus[name]) == EXPECTED[name]
    assert watch.connections == 0, "the parser opened a network connection"
    assert not watch.fifo_opened.is_set(), "the parser opened a local file"


def test_refusals_say_what_to_change(corpus: dict[str, bytes]) -> None:
    with pytest.raises(XmlRejected) as raised:
        parse_document(corpus["harmless_doctype"])
    [error] = raised.value.errors
    assert "DOCTYPE is not allowed" in error.message
    assert "TOP-SECRET-MARKER" not in str(raised.value)


def test_xinclude_is_not_processed(watch: Watch) -> None:
    include = f'<xi:include href="file://{watch.fifo}" parse="text"/>'
    data = f'<r xmlns:xi="http://www.w3.org/2001/XInclude">{include}</r>'.encode()
    root = parse_document(data)
    assert "TOP-SECRET-MARKER" not in (root[0].text or "")
    assert not watch.fifo_opened.is_set()


def test_size_cap_is_checked_before_parsing() -> None:
    with pytest.raises(XmlRejected) as raised:
        parse_document(b"<r>" + b"a" * 2000 + b"</r>", max_bytes=1000)
    assert raised.value.errors[0].code == "xml.too_large"


@pytest.mark.parametrize("data", [b"", b"   \n", b'<?xml version="1.0"?>'])
def test_empty_documents_are_refused(data: bytes) -> None:
    with pytest.raises(XmlRejected) as raised:
        parse_document(data)
    assert raised.value.errors[0].code in ("xml.empty", "xml.syntax")


def test_syntax_errors_carry_their_line() -> None:
    data = b'<?xml version="1.0"?>\n<a>\n  <b>text</c>\n</a>\n'
    with pytest.raises(XmlRejected) as raised:
        parse_document(data)
    errors = raised.value.errors
    assert errors and all(e.code == "xml.syntax" for e in errors)
    assert errors[0].line == 3
    assert "not well-formed" in errors[0].message


def test_undefined_entities_are_refused() -> None:
    with pytest.raises(XmlRejected) as raised:
        parse_document(b"<a>&undefined;</a>")
    assert raised.value.errors[0].code in ("xml.entity_forbidden", "xml.syntax")


def test_depth_limit_is_configurable() -> None:
    nested = b"<a>" * 5 + b"</a>" * 5
    assert parse_document(nested, max_depth=5).tag == "a"
    with pytest.raises(XmlRejected):
        parse_document(nested, max_depth=4)


def test_well_formed_documents_parse() -> None:
    root = parse_document('<r a="1"><é>ü</é><!-- c --></r>'.encode())
    assert root.get("a") == "1" and root[0].text == "ü"


def records(count: int) -> bytes:
    body = b"".join(b"<actReport><n>%d</n><pad>%s</pad></actReport>" % (i, b"x" * 50) for i in range(count))
    return b"<actReportBatch>" + body + b"</actReportBatch>"


def test_records_are_streamed_in_order() -> None:
    seen = [int(r.findtext("n") or -1) for r in iterparse_records(io.BytesIO(records(500)), "actReport")]
    assert seen == list(range(500))


def test_records_match_by_clark_name_too() -> None:
    data = b'<b xmlns="urn:x"><rec>1</rec><rec>2</rec></b>'
    assert [r.text for r in iterparse_records(io.BytesIO(data), "{urn:x}rec")] == ["1", "2"]
    assert [r.text for r in iterparse_records(io.BytesIO(data), "{urn:other}rec")] == []


def test_an_oversized_record_stops_the_stream() -> None:
    data = b"<b><actReport>" + b"x" * 300_000 + b"</actReport></b>"
    with pytest.raises(XmlRejected) as raised:
        list(iterparse_records(io.BytesIO(data), "actReport", max_record_bytes=100_000))
    assert raised.value.errors[0].code == "xml.too_large"


def _peak_while_streaming(count: int) -> int:
    data = io.BytesIO(records(count))
    tracemalloc.start()
    try:
        for _ in iterparse_records(data, "actReport"):
            pass
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_memory_stays_flat_in_file_size() -> None:
    """Peak Python allocations while streaming 20 k and 200 k records, compared in one run."""
    small, large = _peak_while_streaming(20_000), _peak_while_streaming(200_000)
    assert large < small * 2, f"peak grew from {small} to {large} bytes for 10x the records"


def test_schema_errors_are_all_listed_and_capped(tmp_path: Path) -> None:
    xsd = tmp_path / "n.xsd"
    xsd.write_text(
        '<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema">'
        '<xs:element name="r"><xs:complexType><xs:sequence>'
        '<xs:element name="n" type="xs:int" maxOccurs="unbounded"/>'
        "</xs:sequence></xs:complexType></xs:element></xs:schema>"
    )
    schema = load_schema(xsd)
    assert load_schema(xsd) is schema  # compiled once
    assert validate(schema, parse_document(b"<r><n>1</n></r>")) == []
    two = validate(schema, parse_document(b"<r><n>x</n><n>2</n><n>y</n></r>"))
    assert [(e.code, e.path) for e in two] == [("xml.schema", "/r/n[1]"), ("xml.schema", "/r/n[3]")]
    many = parse_document(b"<r>" + b"<n>x</n>" * 150 + b"</r>")
    assert len(validate(schema, many)) == MAX_ERRORS


@pytest.mark.parametrize("parser", ["document", "iterparse"])
@pytest.mark.parametrize("name", sorted(n for n, code in EXPECTED.items() if code == "xml.doctype_forbidden"))
def test_libxml2_settings_hold_where_the_prolog_scan_cannot_see(
    corpus: dict[str, bytes], watch: Watch, name: str, parser: str
) -> None:
    """In UTF-16 the quick DOCTYPE scan of the first bytes sees nothing: the parser's own settings
    (no DTD, no entities, no network) and the DOCTYPE check at the root must still refuse."""
    text = corpus[name].decode().replace('<?xml version="1.0"?>', '<?xml version="1.0" encoding="UTF-16"?>')
    assert refuse(parser, text.encode("utf-16")) is not None
    assert watch.connections == 0
    assert not watch.fifo_opened.is_set()
