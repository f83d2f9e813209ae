"""The maintenance lease: one row that lets one worker of many run the repairs each interval."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db

LEASE_ROW_ID = 1


class MaintenanceRun(db.Model):
    """The next run's due time, who took the last one, when, and what it did.

    Every worker looks every few seconds; the one whose conditional update moves
    ``due_at`` forward runs the repairs (app/jobs/maintenance_schedule.py).
    """

    __tablename__ = "maintenance_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    due_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
    holder: Mapped[str | None] = mapped_column(sa.String(200))
    started_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    result: Mapped[dict | None] = mapped_column(sa.JSON)
    error: Mapped[str | None] = mapped_column(sa.Text)
