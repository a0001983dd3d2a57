"""Alembic environment: runs on the connection `salon.store.migrate` hands over."""

from alembic import context

from salon.store.models import Base

connection = context.config.attributes.get("connection")
if connection is None:
    raise SystemExit("Run migrations through salon (they apply at start-up), not bare alembic.")

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
)
context.run_migrations()
