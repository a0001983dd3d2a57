"""What every REST answer looks like: one type per shape, from which the OpenAPI document's
response schemas are generated and with which `salon.api.wire` builds the answers.

The shapes are TypedDicts rather than models: an answer is built as a plain dict (no
validation or copying on the hot paths), and the type checker holds the code that builds
it to the same fields the document promises. Every object is closed (`@closed`,
`additionalProperties: false`) and timestamps are `Timestamp`, both the realtime
messages' own (`salon.realtime.messages.base`), so the two documents mean the same; the
contract check (`tests/contract.py`) fails on any field the server sends that the
document does not name.
"""
