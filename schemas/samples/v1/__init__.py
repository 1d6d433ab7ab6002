"""Data files of the wire contracts (a package so that they ship with it)."""
