"""specloop: write Python code from specs, test it in a sandbox, apply it as an edit."""

import sys

__version__ = "0.1.0"

# Checked before anything else is imported (this file keeps to syntax old Pythons read), so an
# old interpreter gets this line rather than a SyntaxError or a missing tomllib.
if sys.version_info < (3, 11):
    raise SystemExit("specloop needs Python 3.11 or newer; this is Python %s (%s)"
                     % (sys.version.split()[0], sys.executable))
