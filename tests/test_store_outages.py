"""`store.database.Outages`: a loop's database outage is swallowed, and told once per
outage; anything else goes through."""

import logging

import pytest
from sqlalchemy.exc import OperationalError

from salon.store.database import Outages


def test_an_outage_is_swallowed_and_told_once(caplog: pytest.LogCaptureFixture) -> None:
    outages = Outages("recording r1")
    locked = OperationalError("SELECT", {}, Exception("database is locked"))
    with caplog.at_level(logging.WARNING, logger="salon.store"):
        for _ in range(3):
            with outages:
                raise locked
        with outages:
            pass  # it answers again
        with outages:
            raise ConnectionRefusedError("refused")  # a second outage
    told = [r.getMessage() for r in caplog.records]
    assert len(told) == 2 and told[0].startswith("recording r1: the database did not answer")
    with pytest.raises(ValueError), outages:
        raise ValueError("a bug, not an outage")
