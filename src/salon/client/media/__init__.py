"""Media for the Python client (needs aiortc and PyAV, which salon installs)."""

from salon.client.media.remote import Counters, RemoteTrack
from salon.client.media.session import MediaSession

__all__ = ["Counters", "MediaSession", "RemoteTrack"]
