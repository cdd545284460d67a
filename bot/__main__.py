"""``python -m bot`` runs the same command as ``moja-opstina``."""

import sys

from bot.cli import main

sys.exit(main())
