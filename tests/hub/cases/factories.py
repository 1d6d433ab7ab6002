"""Case bodies as staff send them, for the cases and mandates tests."""

from __future__ import annotations

import secrets
from datetime import date, timedelta
from typing import Any


def case_body(ref: str | None = None, **changes: Any) -> dict[str, Any]:
    """A consumer case with a served judgment, 5,000 EUR owed, evidence unknown unless given."""
    body: dict[str, Any] = {
        "ref": ref or f"CASE-{secrets.token_hex(5)}",
        "creditor": {"name": "Banque Exemple"},
        "debtor": {
            "kind": "person",
            "name": "Jean Martin",
            "address": {
                "line1": "12 rue de la Roquette",
                "postcode": "75011",
                "city": "Paris",
                "departement": "75",
            },
        },
        "claim": {
            "principal_cents": 500_000,
            "interest_cents": 0,
            "costs_cents": 0,
            "paid_cents": 0,
            "currency": "EUR",
        },
        "claim_kind": "consumer",
        "title": {
            "kind": "judgment",
            "issued_on": (date.today() - timedelta(days=400)).isoformat(),
            "served_on": (date.today() - timedelta(days=380)).isoformat(),
        },
        "evidence": {},
    }
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(body.get(key), dict):
            body[key] = {**body[key], **value}
        else:
            body[key] = value
    return body


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
