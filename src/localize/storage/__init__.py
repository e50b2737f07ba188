"""Storage: where bytes live, and where a course's files come from.

Owns the one storage interface (:mod:`.base`: a protocol, the local-folder
backend, :func:`~.base.open_storage`), its S3 backend (:mod:`.s3`, the only
module that imports boto3), course sources (:mod:`.sources`: folder, OCW .zip,
S3 prefix, live site) and the per-page worker pool (:mod:`.parallel`).

May import: ``localize.errors``, ``localize.model`` and the other core modules.
Nothing above it (engine, catalogs, partners, regions, views, app, cli).
"""
