"""Links shaped with `tc` inside the test network namespace (scripts/test-netns): an HTB
class with a small byte queue on loopback for UDP from one port, i.e. the downlink of
one subscriber's connection (the server's socket of that connection is the port).
This kernel has no netem, so delay and loss are not made here."""

import subprocess
from collections.abc import Callable, Iterator

import pytest


def tc(*args: str) -> None:
    subprocess.run(["tc", *args], check=True, capture_output=True)


@pytest.fixture
def shaper() -> Iterator[Callable[[int, str], None]]:
    """`shape(port, rate)` limits UDP sent from `port` on loopback; undone afterwards."""
    tc("qdisc", "add", "dev", "lo", "root", "handle", "1:", "htb", "default", "10",
       "r2q", "1000000")
    tc("class", "add", "dev", "lo", "parent", "1:", "classid", "1:10", "htb",
       "rate", "10gbit")

    def shape(port: int, rate: str) -> None:
        tc("class", "replace", "dev", "lo", "parent", "1:", "classid", "1:20", "htb",
           "rate", rate, "ceil", rate)
        tc("qdisc", "replace", "dev", "lo", "parent", "1:20", "handle", "20:", "bfifo",
           "limit", "15000")
        tc("filter", "replace", "dev", "lo", "parent", "1:", "protocol", "ip", "prio", "1",
           "u32", "match", "ip", "protocol", "17", "0xff", "match", "ip", "sport",
           str(port), "0xffff", "flowid", "1:20")

    try:
        yield shape
    finally:
        subprocess.run(["tc", "qdisc", "del", "dev", "lo", "root"], capture_output=True)
