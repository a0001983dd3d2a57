"""Cluster mode: several salon nodes on one PostgreSQL and one Redis (docs/cluster.md).

Built so far: each node's entry in Redis (`registry`): its id, the address its peers
reach it at, and its load, renewed every heartbeat and gone when the node stops or stops
beating. `salon nodes` lists them. Room ownership, relaying and failover are not built
yet: without them a meeting must keep all its peers on one node.
"""
