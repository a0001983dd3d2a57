"""REST routes, one module per resource, all under RealtimeKit's account/app path."""

from fastapi import APIRouter

from salon.api.routes import (
    active_session,
    apps,
    chat_export,
    meetings,
    participants,
    plugins,
    presets,
    sessions,
    webhooks,
)

PREFIX = "/client/v4/accounts/{account_id}/realtime/kit"

router = APIRouter(prefix=PREFIX)
# Matched in this order, so the busiest resources come first.
for module in (participants, meetings, active_session, sessions, presets, webhooks, plugins,
               chat_export, apps):
    router.include_router(module.router)
