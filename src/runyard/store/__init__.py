"""Tracking stores: where runs, their metadata and metric points live."""

from runyard.store.base import TrackingStore
from runyard.store.sql import SqlTrackingStore

__all__ = ["SqlTrackingStore", "TrackingStore"]
