"""Routers of the native API, one per resource; each route validates, calls the store, answers."""
