"""salon: a self-hosted realtime meetings server with a RealtimeKit-compatible REST API."""

__version__ = "0.1.0"
