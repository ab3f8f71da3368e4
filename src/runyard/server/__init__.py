"""The runyard server: the native API, live streams and access control over HTTP."""
