"""The closed list of act outcomes an office reports (the result written in the "procès-verbal")."""

from __future__ import annotations

from enum import StrEnum


class OutcomeCode(StrEnum):
    """What came of an act. French meaning of each code:

    - ``served_in_person``: signification à personne (handed to the debtor).
    - ``served_at_home``: signification à domicile (handed to someone at the debtor's home, art. 655 CPC).
    - ``served_at_etude``: signification à étude (notice left, copy kept at the office, art. 656 CPC;
      formerly "en mairie").
    - ``served_electronically``: signification par voie électronique (art. 662-1 CPC).
    - ``address_unknown``: procès-verbal de recherches infructueuses, "PV 659" (debtor not found).
    - ``garnishment_fruitful``: saisie-attribution fructueuse (the whole amount is caught).
    - ``garnishment_partial``: saisie-attribution partiellement fructueuse.
    - ``garnishment_empty``: saisie-attribution infructueuse (account empty or closed).
    - ``goods_seized``: procès-verbal de saisie-vente (goods seized for sale).
    - ``no_seizable_goods``: procès-verbal de carence, "PV de carence" (nothing that can be seized).
    - ``paid_in_full``: paiement intégral entre les mains du commissaire de justice.
    - ``partial_payment``: paiement partiel.
    - ``payment_plan_agreed``: échéancier accordé (payment plan agreed with the debtor).
    - ``debtor_deceased``: débiteur décédé.
    - ``insolvency_proceedings``: procédure collective ou de surendettement en cours (enforcement
      suspended).
    - ``refused_other``: acte non accompli pour un autre motif (say which in ``comment``).
    """

    SERVED_IN_PERSON = "served_in_person"
    SERVED_AT_HOME = "served_at_home"
    SERVED_AT_ETUDE = "served_at_etude"
    SERVED_ELECTRONICALLY = "served_electronically"
    ADDRESS_UNKNOWN = "address_unknown"
    GARNISHMENT_FRUITFUL = "garnishment_fruitful"
    GARNISHMENT_PARTIAL = "garnishment_partial"
    GARNISHMENT_EMPTY = "garnishment_empty"
    GOODS_SEIZED = "goods_seized"
    NO_SEIZABLE_GOODS = "no_seizable_goods"
    PAID_IN_FULL = "paid_in_full"
    PARTIAL_PAYMENT = "partial_payment"
    PAYMENT_PLAN_AGREED = "payment_plan_agreed"
    DEBTOR_DECEASED = "debtor_deceased"
    INSOLVENCY_PROCEEDINGS = "insolvency_proceedings"
    REFUSED_OTHER = "refused_other"
