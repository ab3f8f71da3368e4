"""The `runyard` command line: a thin click layer over the SDK."""
