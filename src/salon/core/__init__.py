"""The domain of salon as plain Python: schemas, rules and state machines, no I/O.

Nothing in this package touches the network, the database or the web framework, so
every rule here can be unit-tested without a server.
"""
