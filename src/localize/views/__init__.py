"""Views: what people look at. Status rows, the coordinators' dashboard, the
translators' preview, and the Jinja2 templates (autoescaped) behind every HTML
page the library writes.

May import: every domain package (storage, engine, catalogs, partners,
regions). Never ``localize.app`` or ``localize.cli``.
"""
