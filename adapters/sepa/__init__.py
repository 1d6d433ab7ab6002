"""SEPA files for the bank: the ISO 20022 credit transfer initiation (pain.001.001.09)."""

from adapters.sepa.pain001 import (
    MAX_TRANSFER_CENTS,
    Account,
    CreditTransfer,
    PaymentFile,
    amount_text,
    check_account,
    pain001,
)

__all__ = [
    "MAX_TRANSFER_CENTS",
    "Account",
    "CreditTransfer",
    "PaymentFile",
    "amount_text",
    "check_account",
    "pain001",
]
