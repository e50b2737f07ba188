"""Development helpers that are not part of the product: the local S3 server
(SeaweedFS ``weed mini``) the tests, the demo and ``make s3`` start.

May import ``localize.storage`` (for its S3 client); nothing imports it back.
"""
