"""``python -m harness``: runs the command line of ``harness.cli`` and exits with its status."""

import sys

from harness.cli import main

sys.exit(main())
