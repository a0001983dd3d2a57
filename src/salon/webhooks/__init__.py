"""Webhook delivery: payloads (§7.3), the outbox, RSA signing and the dispatcher.

Session code builds a payload with `payloads`, calls `outbox.enqueue` in the transaction
that records the change, commits, and may `wake()` the dispatcher; the dispatcher does the
rest, in this process or after a restart.
"""
