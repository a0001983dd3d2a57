"""Operating salon: metrics (`/metrics`), structured logs and health probes.

`metrics.py` owns each app's Prometheus registry; `collectors.py` reads live state at
scrape time; `requests.py` is the ASGI middleware that gives every request an id, a log
context and its REST figures; `logs.py` formats (and masks) every log line; `health.py`
answers `/readyz`. docs/observability.md is the operator's page.
"""
