"""The terminal front end: ``specloop run``, ``specloop check`` and the commands around them."""
from .app import main

__all__ = ["main"]
