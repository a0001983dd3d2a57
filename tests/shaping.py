"""Links shaped with `tc` inside a private network namespace (scripts/test-netns, and
bench/media.py's network phase): an HTB class with a small byte queue on loopback for
UDP from one port, i.e. the downlink of one subscriber's connection (the server's socket
of that connection is the port). This kernel has no netem, so delay and loss are not
made here."""

import subprocess
from collections.abc import Callable, Iterator

import pytest

#: The shaped class's queue: 15 kB, half a second at 300 kbit/s, as a home router's.
QUEUE_BYTES = 15_000


def tc(*args: str) -> None:
    subprocess.run(["tc", *args], check=True, capture_output=True)


def shaping_on() -> None:
    """Put HTB on loopback: unshaped traffic goes through a 10 Gbit/s class."""
    shaping_off()
    tc("qdisc", "add", "dev", "lo", "root", "handle", "1:", "htb", "default", "10",
       "r2q", "1000000")
    tc("class", "add", "dev", "lo", "parent", "1:", "classid", "1:10", "htb",
       "rate", "10gbit")


def shape(port: int, rate: str) -> None:
    """Limit UDP sent from `port` on loopback to `rate` (replaces a former limit)."""
    tc("class", "replace", "dev", "lo", "parent", "1:", "classid", "1:20", "htb",
       "rate", rate, "ceil", rate)
    tc("qdisc", "replace", "dev", "lo", "parent", "1:20", "handle", "20:", "bfifo",
       "limit", str(QUEUE_BYTES))
    tc("filter", "replace", "dev", "lo", "parent", "1:", "protocol", "ip", "prio", "1",
       "u32", "match", "ip", "protocol", "17", "0xff", "match", "ip", "sport",
       str(port), "0xffff", "flowid", "1:20")


def shaping_off() -> None:
    subprocess.run(["tc", "qdisc", "del", "dev", "lo", "root"], capture_output=True)


@pytest.fixture
def shaper() -> Iterator[Callable[[int, str], None]]:
    """`shape(port, rate)` limits UDP sent from `port` on loopback; undone afterwards."""
    shaping_on()
    try:
        yield shape
    finally:
        shaping_off()
