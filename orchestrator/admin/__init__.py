"""Admin operations: the doctor's checks, the audit trail's sinks and reader, token budgets,
the redacted config view and per-chat tool rules.

A low layer: it reads config and the seams' Protocols, never the core, the commands or the
implementations, so commands and the CLI can both build on it.
"""
