"""Identifiers.

Meetings, participants, presets and webhooks get UUIDs like RealtimeKit's. Accounts and
apps get 32 hex digits: Cloudflare account ids look like that, and RealtimeKit caps
`app_id` at 32 characters.
"""

import uuid


def new_uuid() -> str:
    return str(uuid.uuid4())


def new_hex_id() -> str:
    return uuid.uuid4().hex
