"""Each app's Prometheus registry, and the counts hot paths keep for it.

A registry per app (not prometheus_client's global one): several servers in one process
(tests) keep their own figures. Figures come three ways, by cost:

- `Tally`: plain integer attributes that the realtime path bumps (a message received, a
  batch of messages written), a few tens of nanoseconds each with no lock and no label
  lookup; `collectors.LiveCollector` turns them into counters at scrape time.
- REST requests: a counter and a latency histogram per (method, route template,
  status), bumped once per request through children bound on first use.
- Live state (rooms, peers, media, queues): read from the live objects at scrape time
  (`collectors.py`), never kept in sync by hand.
"""

from collections.abc import Callable

from prometheus_client import CollectorRegistry, Counter, Histogram, disable_created_metrics
from prometheus_client.exposition import generate_latest
from prometheus_client.process_collector import ProcessCollector
from prometheus_client.registry import Collector

# No `*_created` series beside each counter and histogram: they double what a scrape
# writes and nobody here reads them (a process-wide switch of prometheus_client).
disable_created_metrics()

#: Latency buckets of REST requests, in seconds (1 ms to 10 s).
HTTP_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
#: Event-loop lag buckets, in seconds: how late a timer fired.
LAG_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)
#: The route label of requests that matched no route (404s of unknown paths).
UNMATCHED = "unmatched"


class Tally:
    """Counts bumped on hot paths as plain integers (see the module's docstring)."""

    __slots__ = ("messages_in", "messages_out", "write_batches", "connections_opened",
                 "connections_closed", "joins", "join_refusals", "peers_too_slow",
                 "sessions_started", "sessions_ended", "peers_admitted")

    def __init__(self) -> None:
        #: Realtime messages read from peers' sockets (the join included).
        self.messages_in = 0
        #: Realtime messages written to peers' sockets, and the socket writes they took.
        self.messages_out = 0
        self.write_batches = 0
        self.connections_opened = 0
        self.connections_closed = 0
        #: Joins and resumes that succeeded; refused joins by error code.
        self.joins = 0
        self.join_refusals: dict[str, int] = {}
        #: Peers dropped for reading their messages too slowly (close 4008).
        self.peers_too_slow = 0
        self.sessions_started = 0
        self.sessions_ended = 0
        #: Peers admitted to a session (from the waiting room too; resumes not).
        self.peers_admitted = 0


class Metrics:
    """One app's registry, its REST instruments and its `Tally`."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.tally = Tally()
        self.http_requests = Counter(
            "salon_http_requests", "REST and page requests answered, by route template "
            "and status.", ["method", "route", "status"], registry=self.registry)
        self.http_duration = Histogram(
            "salon_http_request_duration_seconds", "Time from a request's arrival to the "
            "end of its answer, by route template.", ["method", "route"],
            buckets=HTTP_BUCKETS, registry=self.registry)
        self.loop_lag = Histogram(
            "salon_event_loop_lag_seconds", "How much later than due the event loop ran a "
            "timer (salon.observability.looplag): time when nothing else could run.",
            buckets=LAG_BUCKETS, registry=self.registry)
        ProcessCollector(namespace="", registry=self.registry)
        self._children: dict[tuple[str, str, int], tuple[Callable[[], None],
                                                         Callable[[float], None]]] = {}

    def observe_request(self, method: str, route: str, status: int, seconds: float) -> None:
        """Count one answered request and its duration."""
        key = (method, route, status)
        bound = self._children.get(key)
        if bound is None:
            bound = self._children[key] = (
                self.http_requests.labels(method, route, str(status)).inc,
                self.http_duration.labels(method, route).observe)
        bound[0]()
        bound[1](seconds)

    def register(self, collector: Collector) -> None:
        self.registry.register(collector)

    def render(self) -> bytes:
        """The registry in Prometheus text format (version 0.0.4)."""
        return generate_latest(self.registry)
