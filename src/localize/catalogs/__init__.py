"""Catalogs: the gettext side and the workspace of record.

Owns the one PO reader and writer (:mod:`.po`), the catalog lifecycle (new
catalogs, msgmerge-style merges and validation: :mod:`.lifecycle`), catalog
statistics (:mod:`.stats`), the translation memory (:mod:`.memory`) and the
workspace layout of templates, catalogs and history (:mod:`.workspace`).

May import: the core modules, ``localize.storage`` and ``localize.engine``.
"""
