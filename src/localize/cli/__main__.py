"""``python -m localize.cli``: the ``localize`` command without its console script."""

import sys

from localize.cli import main

sys.exit(main())
