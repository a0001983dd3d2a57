"""What every REST answer looks like: one type per shape, from which the OpenAPI document's
response schemas are generated and with which `salon.api.wire` builds the answers.

The shapes are TypedDicts rather than models: an answer is built as a plain dict (no
validation or copying on the hot paths), and the type checker holds the code that builds
it to the same fields the document promises. Every object is closed
(`additionalProperties: false`), so the contract test (`tests/test_openapi_contract.py`)
fails on any field the server sends that the document does not name.
"""
