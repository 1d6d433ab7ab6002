"""Receipt (signed acknowledgement of what was received) and error report (negative acknowledgement)."""

from __future__ import annotations

from typing import Annotated, Any, Final, Literal, Self

from pydantic import Field, StringConstraints, model_validator

from schemas.v1.common import MessageId, Reference, Sha256Hex, Timestamp, WireModel, rule_error
from schemas.v1.envelope import MessageModel
from schemas.v1.errors import MAX_ERRORS, ErrorItem

Base64Signature = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9+/]{4,684}={0,2}$")]
# The first 16 hex characters of the SHA-256 of the signing key's raw 32-byte public key.
KeyId = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{16}$")]


SIGNED_ALONE: Final = "Ed25519"
SIGNED_BY_CHUNK: Final = "Ed25519-Merkle"  # hub.messaging.signing.BATCH_ALGORITHM


class ProofStep(WireModel):
    """One step up a batch chunk's Merkle tree: the sibling hash and the side it is on."""

    side: Literal["left", "right"]
    """``left``: the next node is SHA-256(0x01 || sibling || node); ``right``: SHA-256(0x01 || node ||
    sibling)."""
    sibling: Sha256Hex

    @model_validator(mode="before")
    @classmethod
    def _from_pair(cls, data: Any) -> Any:
        # The hub stores a step as the pair [side, sibling] (``signing.batch_proof``).
        if isinstance(data, list | tuple) and len(data) == 2:
            return {"side": data[0], "sibling": data[1]}
        return data


class ReceiptProof(WireModel):
    """Where a batch record's receipt sits in its chunk's Merkle tree, whose root the hub signed."""

    root: Sha256Hex
    """The chunk's Merkle root (hex), the one the signature is of."""
    leaves: int = Field(ge=1, le=100_000)
    """How many receipts the chunk's tree holds."""
    index: int = Field(ge=0, le=100_000)
    """This receipt's place among them, from 0."""
    path: list[ProofStep] = Field(default_factory=list, max_length=64)
    """The siblings from this receipt's leaf up to the root (none for a chunk of one)."""

    @model_validator(mode="after")
    def _index_in_tree(self) -> Self:
        if self.index >= self.leaves:
            raise rule_error("receipt.proof_index", "the index is beyond the tree's leaves", at="index")
        return self


class Receipt(MessageModel):
    """Hub -> sender: the message ``message_id`` was received (bytes hashed), accepted or refused.

    Its signed payload is the canonical JSON (sorted keys, no spaces, UTF-8) of ``{"message_id",
    "sender" (the original sender: this receipt's recipient), "sha256", "received_at", "accepted",
    "errors"}``, and ``"invoice_id"`` and ``"key_id"`` when the receipt carries them. The key is
    the hub's key whose id is ``key_id`` (``GET /v1/receipts/public-keys``). ``signature_alg``
    ``Ed25519``: ``signature`` is an Ed25519 signature (base64) by that key of that payload, and
    there is no ``proof``. ``Ed25519-Merkle`` (a record of a batch file, signed with its chunk): the
    leaf SHA-256(0x00 || payload) climbs ``proof.path`` to ``proof.root``, and ``signature`` is the
    hub's Ed25519 signature of the canonical JSON of ``{"kind": "receipt_batch", "merkle_root":
    root, "leaves": proof.leaves}``, plus ``"key_id"`` when the receipt carries one.
    """

    KIND = "receipt"

    message_id: MessageId
    """The ``message_id`` of the message received."""
    sha256: Sha256Hex
    """SHA-256 of the exact bytes received (HTTP body or AMQP payload)."""
    received_at: Timestamp
    accepted: bool
    errors: list[ErrorItem] = Field(default_factory=list, max_length=MAX_ERRORS)
    """Every error found (at most 100) when refused; empty when accepted."""
    invoice_id: Reference | None = None
    """A fee invoice accepted: the hub's id of the invoice it recorded, to read it at ``GET
    /v1/invoices/{invoice_id}``; absent otherwise. Signed with the rest when present."""
    signature: Base64Signature
    signature_alg: Literal["Ed25519", "Ed25519-Merkle"]
    """``Ed25519``: signed alone; ``Ed25519-Merkle``: signed with its batch chunk, ``proof`` given."""
    proof: ReceiptProof | None = None
    """With ``Ed25519-Merkle`` only: the receipt's inclusion proof in its chunk's signed root."""
    key_id: KeyId | None = None
    """The id of the hub key that signed (``GET /v1/receipts/public-keys``), signed with the rest.
    Absent only on receipts signed before key ids (2026-12): verify those with any published key."""

    @model_validator(mode="after")
    def _proof_matches_algorithm(self) -> Self:
        if self.signature_alg == SIGNED_BY_CHUNK and self.proof is None:
            raise rule_error(
                "receipt.proof_required", "a receipt signed with its chunk has a proof", at="proof"
            )
        if self.signature_alg == SIGNED_ALONE and self.proof is not None:
            raise rule_error("receipt.proof_unexpected", "a receipt signed alone has no proof", at="proof")
        return self

    @model_validator(mode="after")
    def _errors_match_verdict(self) -> Self:
        if self.accepted and self.errors:
            raise rule_error("receipt.errors_on_accepted", "an accepted message has no errors", at="errors")
        if not self.accepted and not self.errors:
            raise rule_error("receipt.errors_required", "a refusal lists its errors", at="errors")
        return self


class ErrorReport(MessageModel):
    """Negative acknowledgement: the message ``message_id`` is refused, for every reason listed."""

    KIND = "error_report"

    message_id: MessageId
    """The ``message_id`` of the refused message (``unknown`` when it could not be read)."""
    sha256: Sha256Hex | None = None
    """SHA-256 of the bytes refused, when known."""
    errors: list[ErrorItem] = Field(min_length=1, max_length=MAX_ERRORS)
