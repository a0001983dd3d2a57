"""The media plane: the backend interface and its implementations."""

from salon.media.backend import MediaBackend
from salon.media.settings import MediaSettings


def create_backend(settings: MediaSettings) -> MediaBackend | None:
    """The configured backend, or None when media is turned off (`SALON_MEDIA_BACKEND=none`)."""
    if settings.backend == "none":
        return None
    if settings.backend == "embedded":
        from salon.media.embedded.backend import EmbeddedBackend  # aiortc loads only if used

        return EmbeddedBackend(settings)
    raise ValueError(f"Unknown media backend {settings.backend!r} (embedded or none).")
