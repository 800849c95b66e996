"""``python -m vectis``."""

import sys

from vectis.main import main

sys.exit(main())
