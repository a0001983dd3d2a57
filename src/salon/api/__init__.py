"""The REST control plane, wire-compatible with Cloudflare RealtimeKit."""
