"""The public sample e-invoices (read-only, never copied here) and the hand-written bailiff fixtures."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[3]
FIXTURES = Path(__file__).parent / "fixtures"
UBL_FIXTURE = FIXTURES / "bailiff-fee-invoice-ubl.xml"
CII_FIXTURE = FIXTURES / "bailiff-fee-invoice-cii.xml"


def samples_dir() -> Path:
    configured = os.environ.get("HUB_SAMPLES_DIR")
    return Path(configured) if configured else REPO_ROOT.parent / "shared" / "samples"


def sample(relative: str) -> bytes:
    """A public sample's bytes; skips the test, with the reason, when the samples are not on this machine."""
    path = samples_dir() / relative
    if not samples_dir().is_dir():
        pytest.skip(f"public e-invoice samples not found at {samples_dir()} (set HUB_SAMPLES_DIR)")
    if not path.is_file():
        pytest.skip(f"sample {relative} not found under {samples_dir()}")
    return path.read_bytes()
