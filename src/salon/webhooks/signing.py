"""The deployment's webhook signing key: RSA-2048, RSASSA-PKCS1-v1_5 with SHA-256.

RealtimeKit signs each body with its private key and publishes the public key at
`/.well-known/webhooks.json`; receivers verify the raw body with it. The key pair lives in
the database so every process of one deployment signs alike and restarts keep the key
receivers have already pinned.
"""

import base64
from dataclasses import dataclass

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from salon.core.clock import utcnow
from salon.store.models import WebhookKey

KEY_BITS = 2048


@dataclass(frozen=True)
class WebhookSigner:
    private_key: rsa.RSAPrivateKey
    #: SubjectPublicKeyInfo PEM, as RealtimeKit serves it.
    public_key_pem: str

    def sign(self, body: bytes) -> str:
        """The `rtk-signature` header value for these exact body bytes."""
        signature = self.private_key.sign(body, padding.PKCS1v15(), hashes.SHA256())
        return base64.b64encode(signature).decode()


def generate_key() -> WebhookKey:
    private_key = rsa.generate_private_key(public_exponent=65537, key_size=KEY_BITS)
    return WebhookKey(
        id=1,
        private_key_pem=private_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode(),
        public_key_pem=public_pem(private_key.public_key()),
        created_at=utcnow(),
    )


def public_pem(public_key: rsa.RSAPublicKey) -> str:
    return public_key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()


async def load_signer(db: AsyncSession) -> WebhookSigner:
    """The deployment's signer; the first caller on an empty database creates the key."""
    key = await db.scalar(select(WebhookKey).order_by(WebhookKey.id).limit(1))
    if key is None:
        db.add(generate_key())
        try:
            await db.commit()
        except IntegrityError:  # another process made it first: use theirs
            await db.rollback()
        key = await db.scalar(select(WebhookKey).order_by(WebhookKey.id).limit(1))
        assert key is not None
    private_key = serialization.load_pem_private_key(key.private_key_pem.encode(), password=None)
    assert isinstance(private_key, rsa.RSAPrivateKey)
    return WebhookSigner(private_key=private_key, public_key_pem=key.public_key_pem)
