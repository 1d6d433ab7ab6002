"""The one hardened parser for untrusted XML (placeholder: being written, see docs)."""
