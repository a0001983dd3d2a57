"""Livestreaming: a meeting's composite (or an RTMP encoder's stream) to HLS viewers and
RTMP servers. See docs/livestreaming.md."""
