"""Payment runs: the invoices approved for payment grouped into one SEPA credit transfer file
("virement SEPA", ISO 20022 pain.001.001.09) for the agency's bank. The invoices a run pays point at
it (``invoices.payment_run_id``); the file is kept as written, so every download is the same bytes."""

from __future__ import annotations

from datetime import date

from sqlalchemy import JSON, Date, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from hub.kit.db import Base, Cents, Currency, Timestamped, UuidPk


class PaymentRun(UuidPk, Timestamped, Base):
    __tablename__ = "payment_runs"

    created_by: Mapped[str] = mapped_column(String(254))
    message_id: Mapped[str] = mapped_column(String(35), unique=True)  # GrpHdr/MsgId of the file
    execution_date: Mapped[date] = mapped_column(Date)  # ReqdExctnDt: when the bank pays
    currency: Mapped[str] = Currency()
    transactions: Mapped[int] = mapped_column(Integer)  # NbOfTxs
    total_cents: Mapped[int] = Cents()  # CtrlSum
    # The approved invoices left out, once per reason (an office without a valid IBAN...): a list of
    # {"invoice_id", "number", "office_code", "code", "reason"}. They wait for the next run.
    skipped: Mapped[list[dict[str, str]]] = mapped_column(JSON, default=list)
    pain001: Mapped[bytes] = mapped_column(LargeBinary)
    # Set when the whole run is marked paid at once (the bank's statement line of the batch).
    paid_on: Mapped[date | None] = mapped_column(Date)
    bank_reference: Mapped[str | None] = mapped_column(String(100))
