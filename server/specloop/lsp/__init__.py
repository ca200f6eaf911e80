"""The language server front end of specloop (pygls 2).  Entry point:
:func:`specloop.lsp.server.serve`."""
