"""Refusal times of the hostile XML corpus (``tests/adapters/xml/hostile/``), for ``hub bench``.

The corpus files carry placeholders (``{{PORT}}``, ``{{FILE}}``) for the local endpoints a test
watches; the 50 MB text node is generated, not stored.
"""

from __future__ import annotations

import io
import time
from pathlib import Path

from adapters.xml.hardened import XmlRejected, iterparse_records, parse_document

HUGE_TEXT_BYTES = 50 * 1024 * 1024
# The corpus lives with the tests that pin its expected refusals; ``hub bench`` runs from a checkout.
CORPUS_DIR = Path(__file__).resolve().parents[2] / "tests" / "adapters" / "xml" / "hostile"


def huge_text_node(size: int = HUGE_TEXT_BYTES) -> bytes:
    """A single text node of ``size`` bytes in an otherwise harmless document."""
    head = b'<?xml version="1.0"?>\n<actReport xmlns="urn:agency-hub:edi:v1"><comment>'
    return head + b"A" * size + b"</comment></actReport>\n"


def load_corpus(folder: Path, *, port: int, file: Path) -> dict[str, bytes]:
    """Each corpus file by name, its placeholders pointed at ``port`` on 127.0.0.1 and at ``file``."""
    corpus = {}
    for path in sorted(folder.glob("*.xml")):
        text = path.read_text().replace("{{PORT}}", str(port)).replace("{{FILE}}", str(file))
        corpus[path.stem] = text.encode()
    corpus["huge_text_node"] = huge_text_node()
    return corpus


def refuse(parser: str, data: bytes) -> str | None:
    """The refusal code, or None when the document was accepted."""
    try:
        if parser == "document":
            parse_document(data, max_bytes=len(data) + 1)
        else:
            for _ in iterparse_records(io.BytesIO(data), "actReport"):
                pass
    except XmlRejected as rejected:
        return rejected.errors[0].code
    return None


def bench_hostile_corpus(folder: Path | None = None) -> list[dict[str, object]]:
    """Each corpus item through both parsers: ``name``, ``parser``, ``refused``, ``code``, ``ms``."""
    # Port 9 (discard) and a file that does not exist: a broken parser fails loudly, harmlessly.
    corpus = load_corpus(folder or CORPUS_DIR, port=9, file=Path("/nonexistent/hub-bench-secret"))
    rows: list[dict[str, object]] = []
    for name, data in corpus.items():
        for parser in ("document", "iterparse"):
            started = time.perf_counter()
            code = refuse(parser, data)
            elapsed_ms = (time.perf_counter() - started) * 1000
            rows.append(
                {"name": name, "parser": parser, "refused": code is not None, "code": code, "ms": elapsed_ms}
            )
    return rows
