"""The staff console: server-rendered pages under ``/console`` for agency staff and finance, built on
the modules' services (docs/adr/0013-console.md)."""
