"""``python -m specloop.lsp [--tcp HOST:PORT]`` runs the language server."""

import argparse
import sys

from .server import serve

parser = argparse.ArgumentParser(prog="python -m specloop.lsp")
parser.add_argument("--tcp", metavar="HOST:PORT")
sys.exit(serve(parser.parse_args().tcp))
