"""localize: open courseware in every learner's language.

The library is plain Python without Prefect: extraction, catalogs, building and
publishing live here; ``flows/`` orchestrates them.
"""

__version__ = "0.1.0"

DEFAULT_CONFIG = "localize.toml"
"""The project configuration a command reads when it is given no --config (:mod:`localize.config`)."""
