"""``python -m localize.cli``: the same as the ``localize`` command."""

import sys

from localize.cli import main

sys.exit(main())
