"""`/.well-known/webhooks.json`: the public key receivers verify webhook signatures with.

Served at the host root without authentication, like RealtimeKit's
`https://api.realtime.cloudflare.com/.well-known/webhooks.json`.
"""

from fastapi import APIRouter, Request

from salon.api.envelope import Envelope
from salon.api.schemas.live import PublicKeyAnswer
from salon.webhooks.signing import WebhookSigner

router = APIRouter(tags=["webhooks"])


@router.get("/.well-known/webhooks.json", summary="Webhook signature public key",
            response_model=PublicKeyAnswer)
async def webhooks_public_key(request: Request) -> Envelope:
    signer: WebhookSigner = request.app.state.webhook_signer
    return Envelope({"success": True, "data": {"publicKey": signer.public_key_pem}, "message": ""})
