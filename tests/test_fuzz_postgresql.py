"""The REST fuzzing run of test_fuzz.py on PostgreSQL (a file of its own: see there)."""

from pathlib import Path

import pytest

from tests.servers import SalonServer
from tests.test_fuzz import fuzz


@pytest.mark.parametrize("server", ["postgresql"], indirect=True)
def test_the_api_keeps_its_contract_under_fuzzing_on_postgresql(server: SalonServer,
                                                                tmp_path: Path) -> None:
    fuzz(server, tmp_path)
