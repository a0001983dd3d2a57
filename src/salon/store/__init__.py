"""Persistence: SQLAlchemy models, the engine, and Alembic migrations.

SQLite under the data directory by default, PostgreSQL when `SALON_DATABASE_URL` names it.
"""
