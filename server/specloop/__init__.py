"""specloop: write Python code from specs, test it in a sandbox, apply it as an edit."""

__version__ = "0.1.0"
