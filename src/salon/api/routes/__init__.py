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
for module in (apps, meetings, participants, active_session, presets, sessions, webhooks,
               plugins, chat_export):
    router.include_router(module.router)
