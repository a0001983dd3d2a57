"""The plugin registry of an app (a salon addition; live state is in `core/room/plugins`)."""

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from salon.store.models.base import Base, UTCDateTime


class Plugin(Base):
    __tablename__ = "plugins"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    app_id: Mapped[str] = mapped_column(ForeignKey("apps.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(255))
    url: Mapped[str] = mapped_column(Text)
    icon: Mapped[str | None] = mapped_column(Text)
    description: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (
        Index("ux_plugins_app_name", "app_id", "name", unique=True),
        Index("ix_plugins_app_created", "app_id", "created_at"),
    )

    SETTINGS = ("name", "url", "icon", "description")

    def settings(self) -> dict[str, str | None]:
        return {name: getattr(self, name) for name in self.SETTINGS}
