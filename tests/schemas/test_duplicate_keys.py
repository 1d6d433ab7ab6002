"""A JSON message that gives a key twice in one object is refused with the key's JSON Pointer:
parsers disagree on which value counts (the last one did, while the bytes kept held both)."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from schemas import v1
from schemas.v1 import SAMPLES_DIR
from schemas.v1.message import duplicate_keys

SAMPLE = (SAMPLES_DIR / "valid" / "act_report.json").read_text(encoding="utf-8")


def test_a_key_given_twice_is_refused_with_its_pointer() -> None:
    assert isinstance(v1.parse_json(SAMPLE), v1.ActReport)
    twice = SAMPLE.replace('"seized_cents"', '"seized_cents": 999999, "seized_cents"', 1)
    assert twice != SAMPLE and json.loads(twice) == json.loads(SAMPLE)  # last one wins, silently
    with pytest.raises(ValidationError) as refused:
        v1.parse_json(twice)
    [error] = v1.message_errors(refused.value)
    assert (error.path, error.code) == ("/seized_cents", "json.duplicate_key")
    assert '"seized_cents"' in error.message


def test_every_duplicate_is_found_at_any_depth() -> None:
    document = (
        b'{"a": 1, "a": 2, "b": [{"c": 1}, {"c": 1, "d~/": 2, "d~/": 3}], "e": {"f": {"g": 1, "g": 1}}}'
    )
    assert duplicate_keys(document) == [("a",), ("b", 1, "d~/"), ("e", "f", "g")]
    with pytest.raises(ValidationError) as refused:
        v1.parse_json(document)
    paths = sorted(e.path for e in v1.message_errors(refused.value))
    assert paths == ["/a", "/b/1/d~0~1", "/e/f/g"]


@pytest.mark.parametrize("document", [b"{}", b"[1, 2]", b"not json", b'{"a": {"a": 1}}', b"{" * 5000])
def test_no_false_alarm(document: bytes) -> None:
    assert duplicate_keys(document) == []
