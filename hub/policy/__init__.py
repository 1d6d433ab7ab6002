"""Collection guardrails: legal prerequisites, limitation periods, pacing and vulnerability.

Pure rules: no I/O, no database, no clock. Dates are passed in.
"""
