"""`python -m specloop` is the `specloop` command."""

import sys

from .cli import main

sys.exit(main())
