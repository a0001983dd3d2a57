"""The realtime plane: one WebSocket per peer, speaking the protocol in docs/protocol.md."""
