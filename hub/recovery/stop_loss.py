"""The stop-loss: a case where fees keep going out and nothing comes back is held for a person.

The cost flag judges one act against what it can be expected to bring in. It cannot see a case
that has already swallowed a string of acts, each plausible on its own, without a cent recovered.
The stop-loss looks back instead: once the fees borne on a case exceed a share of its balance
(``HUB_STOP_LOSS_SHARE_PERCENT``, 20 % by default) and nothing was recovered on it, every further
act is held for review, with the figures behind the decision. Recovering anything lifts it: the
case is then judged act by act again.

- **fees borne**: every fee charged on the case, whoever ends up paying it (emoluments,
  disbursements and their VAT, net of corrections, including what was written off);
- **recovered**: the money collected on the case by the offices, plus the payments the debtor made
  to the agency since the case was opened;
- **net** = recovered - fees borne: what the case has brought the creditor so far.

Pure: no I/O and no clock; the caller reads the figures from the ledger.
"""

from __future__ import annotations

from dataclasses import dataclass

from hub.recovery.evidence import Reason, eur
from hub.recovery.facts import CaseFacts

RULE_VERSION = "stop-loss/1"
DEFAULT_SHARE_PERCENT = 20


@dataclass(frozen=True)
class CaseNet:
    """What a case has brought in and cost so far, in one currency."""

    recovered_cents: int = 0
    fees_borne_cents: int = 0
    currency: str = "EUR"

    @property
    def net_cents(self) -> int:
        return self.recovered_cents - self.fees_borne_cents

    def as_dict(self) -> dict[str, int | str]:
        return {
            "recovered_cents": self.recovered_cents,
            "fees_borne_cents": self.fees_borne_cents,
            "net_cents": self.net_cents,
            "currency": self.currency,
        }


def of(case: CaseFacts) -> CaseNet:
    """The case's figures so far, as its facts carry them."""
    return CaseNet(case.recovered_cents, case.fees_borne_cents, case.currency)


def threshold_cents(balance_cents: int, share_percent: int) -> int:
    """The fees above which a case with no recovery stops: ``share_percent`` of the balance, in
    whole cents rounded down (so a fee exactly on the line does not trip it)."""
    return balance_cents * share_percent // 100


def check(case: CaseFacts, share_percent: int = DEFAULT_SHARE_PERCENT) -> Reason | None:
    """``STOP_LOSS`` when fees above ``share_percent`` of the balance still owed were borne on the
    case and nothing was recovered on it; ``None`` otherwise, or when ``share_percent`` is 0 (off)."""
    return check_net(of(case), case.outstanding_cents, share_percent)


def check_net(net: CaseNet, balance_cents: int, share_percent: int = DEFAULT_SHARE_PERCENT) -> Reason | None:
    """:func:`check` on a case's figures and its balance still owed."""
    if share_percent <= 0 or net.recovered_cents > 0:
        return None
    limit = threshold_cents(balance_cents, share_percent)
    if net.fees_borne_cents <= limit:
        return None
    currency = net.currency
    return Reason(
        "STOP_LOSS",
        f"Stop-loss ({RULE_VERSION}): {eur(net.fees_borne_cents, currency)} of fees already borne on "
        f"this case and nothing recovered, above {share_percent} % of the balance "
        f"{eur(balance_cents, currency)} ({eur(limit, currency)}): a person reviews every further act "
        "before more money is spent.",
    )
