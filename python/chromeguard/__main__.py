"""``python -m chromeguard``: the command line (see `chromeguard.cli`)."""

import sys

from .cli import main

sys.exit(main())
