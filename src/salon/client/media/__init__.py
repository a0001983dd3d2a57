"""Media for the Python client (needs aiortc and PyAV, which salon installs)."""

from salon.client.media.remote import Counters, RemoteTrack
from salon.client.media.session import MediaSession
from salon.client.media.simulcast import SimulcastSource
from salon.client.media.voices import speaking_first

__all__ = ["Counters", "MediaSession", "RemoteTrack", "SimulcastSource", "speaking_first"]
