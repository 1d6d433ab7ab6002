"""Plausible recovery of an act, the cost flag with its explanation, learned success rates.

Pure rules: no I/O, no database, no clock. Dates are passed in; the only files read are the
packaged data files beside these modules, once per process.
"""
