"""Partners: kits out, returns in, the QA gate between.

Owns routing (kits, assignments: :mod:`.routing`), webhook notices
(:mod:`.webhooks`), the check registry of the QA gate (:mod:`.checks`), taking
returned files back (:mod:`.ingest`) and per-partner S3 access policies
(:mod:`.access`).

May import: the core modules, ``localize.storage``, ``localize.engine`` and
``localize.catalogs``. Never ``localize.regions`` (a peer) or anything above.
"""
