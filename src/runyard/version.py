"""runyard's version, in a module of its own so the server and CLI need not load the SDK."""

__version__ = "0.1.0"
