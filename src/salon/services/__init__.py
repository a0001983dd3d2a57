"""Use cases: each function loads and saves through `store/` and applies rules from `core/`.

Services take an open `AsyncSession` and commit their own work, so an edge (REST,
realtime, CLI) only opens a session, calls one function, and presents the result.
"""
