"""The engine: HTML pages <-> translatable units, byte for byte.

Owns the position-keeping tokenizer (:mod:`.htmltree`), the one traversal that
serves extraction and rebuild (:mod:`.segments`), the placeholder grammar
(:mod:`.placeholders`), page decoding and encoding (:mod:`.encoding`), the one
page pipeline (:mod:`.pages`), course-level extraction and build
(:mod:`.extract`, :mod:`.build`) and pseudo-localization (:mod:`.pseudo`).

May import: the core modules and ``localize.storage``. Nothing above it.
"""
