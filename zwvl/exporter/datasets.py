"""Dataset freshness: the time of each dataset's last load, read from the data platform's PostgreSQL.

The query is configurable and must return rows ``(dataset slug, time of the last load)``; the
default reads a load log the loaders append to::

    CREATE TABLE platform.dataset_loads (
        dataset   text        NOT NULL,   -- the dataset's slug in the inventory
        loaded_at timestamptz NOT NULL,
        rows      bigint
    );

Only datasets of the inventory are reported (bounded labels); one never loaded reports 0, so it is
stale. The connection string comes from ZWVL_DATASETS_DSN (libpq syntax; keep the password in a
PGPASSFILE, not in the string) and is never logged.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import psycopg
from prometheus_client.core import Metric

from zwvl.exporter.base import SourceError, gauge, timestamp
from zwvl.exporter.model import ModelCache
from zwvl.monitoring.names import MetricName

DEFAULT_QUERY = "SELECT dataset, max(loaded_at) FROM platform.dataset_loads GROUP BY dataset"
ENV_DSN = "ZWVL_DATASETS_DSN"


class DatasetFreshnessSource:
    name = "datasets"

    def __init__(self, cache: ModelCache, dsn: str, query: str = DEFAULT_QUERY, timeout: float = 5.0) -> None:
        self.cache = cache
        self.dsn = dsn
        self.query = query
        self.timeout = timeout

    def read(self) -> dict[str, float]:
        try:
            with psycopg.connect(
                self.dsn,
                connect_timeout=max(1, int(self.timeout)),
                options=f"-c statement_timeout={int(self.timeout * 1000)}",
                application_name="zwvl-exporter",
            ) as conn:
                conn.read_only = True
                rows = conn.execute(self.query).fetchall()
        except psycopg.Error as exc:
            # the message of a connection error may echo parts of the DSN: log the class only
            raise SourceError(f"data platform query failed: {exc.__class__.__name__}") from None
        out: dict[str, float] = {}
        for row in rows:
            if len(row) < 2 or row[1] is None:
                continue
            when = row[1]
            if isinstance(when, dt.datetime):
                out[str(row[0])] = timestamp(when)
            elif isinstance(when, int | float):
                out[str(row[0])] = float(when)
        return out

    def collect(self) -> Iterable[Metric]:
        loads = self.read()
        inv = self.cache.get().inv
        last = gauge(MetricName.DATASET_LAST_LOAD_TIMESTAMP_SECONDS)
        for ds in sorted(inv.datasets.values(), key=lambda d: d.slug):
            last.add_metric([ds.slug, ds.domain], loads.get(ds.slug, 0.0))
        yield last
