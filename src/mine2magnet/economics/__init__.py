"""Economics: what stays at home. Accounts per facility and year (value added by the income and production
approaches, wages, taxes, capital charge, foreign-owned profit, jobs), built on a chain run.

>>> from mine2magnet.economics import facility_accounts, EconomicInputs
>>> table = facility_accounts(model, result, inputs)   # year, facility, country, stage, item, usd, myr
"""

from mine2magnet.economics.accounts import (
    ACCOUNT_COLUMNS,
    ITEMS,
    EconomicInputs,
    capital_recovery_factor,
    facility_accounts,
)
from mine2magnet.economics.totals import TOTAL_KPIS, country_totals

__all__ = [
    "ACCOUNT_COLUMNS",
    "ITEMS",
    "TOTAL_KPIS",
    "EconomicInputs",
    "capital_recovery_factor",
    "country_totals",
    "facility_accounts",
]
