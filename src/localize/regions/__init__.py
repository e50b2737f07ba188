"""Regions: versioned, atomic bundles in object storage, and the mirrors that pull them.

Owns the region's storage layout (keys, manifests, pointers, index, versions:
:mod:`.layout`), garbage collection (:mod:`.gc`), building bundles and their notices
(:mod:`.bundle`), publishing and rollback (:mod:`.publish`) and the mirror client
(:mod:`.pull`, which needs only the layout).

May import: the core modules, ``localize.storage``, ``localize.engine`` and
``localize.catalogs``. Never ``localize.partners`` (a peer) or anything above.
"""
