"""The application layer: what a command or a flow does, once.

Each operation takes typed arguments, does the work through the domain
packages and returns a typed result (frozen dataclasses). The CLI formats those
results; the flows turn them into plain data with :func:`localize.app.plain.to_plain`.

May import: everything below it. Never ``localize.cli`` or ``flows``.
"""
