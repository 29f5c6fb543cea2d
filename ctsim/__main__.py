"""``python -m ctsim``: the ``ctsim`` command."""

import sys

from ctsim.cli import main

sys.exit(main())
