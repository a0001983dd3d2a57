"""Live sessions at run time: one `RoomHost` per meeting with someone in it.

A host owns a core `Room` and everything around it that needs I/O: the links to its
peers' connections, the keep-alive and resume timers, and an ordered recorder that
persists what the room decides. Edges reach rooms through `Rooms`: the WebSocket gateway
for peers, the REST API for operators.
"""
