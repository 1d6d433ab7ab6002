"""The cost flag (the creditor's expected net of an act) with its explanation, expected recovery
learned from act reports, the evidence that bounds it.

Pure rules: no I/O, no database, no clock. Dates are passed in; the only files read are the
packaged data files beside these modules, once per process.
"""
