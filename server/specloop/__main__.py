"""`python -m specloop` is the `specloop` command."""

import sys

from .cli.app import main

sys.exit(main())
