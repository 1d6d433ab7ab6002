"""The legal figures as dated data: the act catalogue and its tariff periods, the proportional fees
on money recovered (A444-31, A444-32), the single-person RSA (unseizable bank minimum and pay
floor) and the wage-garnishment scale.

A low, pure package: it imports only the standard library, pydantic, ``hub.kit`` and ``schemas``,
so recovery, policy, invoices and finance use it without reaching into ``hub.acts``. Every figure
is read from a TOML file beside these modules through the one loader of ``hub.tariff.data``.
"""

from hub.tariff.catalogue import ActCost, Catalogue, CostLine, act_cost, load_catalogue
from hub.tariff.data import MalformedTariffData, NoFigureInForce, Provenance
from hub.tariff.fees import ProportionalFee, collection_fee, recovery_fee
from hub.tariff.pay_scale import PayScale, SeizablePay, pay_scale_on, seizable_monthly_cents, seizable_pay
from hub.tariff.rsa import DatedAmount, pay_floor, unseizable_bank_minimum

__all__ = [
    "ActCost",
    "Catalogue",
    "CostLine",
    "DatedAmount",
    "MalformedTariffData",
    "NoFigureInForce",
    "PayScale",
    "ProportionalFee",
    "Provenance",
    "SeizablePay",
    "act_cost",
    "collection_fee",
    "load_catalogue",
    "pay_floor",
    "pay_scale_on",
    "recovery_fee",
    "seizable_monthly_cents",
    "seizable_pay",
    "unseizable_bank_minimum",
]
