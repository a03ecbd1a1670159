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

Over TCP the server's certificate is always verified: `sslmode` defaults to verify-full (a mode that
does not verify it is refused) and `sslrootcert` to the region CA in ZWVL_CA_FILE. A local socket
(a `host` that is a folder) has no TLS.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterable, Mapping

import psycopg
from prometheus_client.core import Metric
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from zwvl.exporter.base import SourceError, gauge, timestamp
from zwvl.exporter.model import ModelCache
from zwvl.monitoring.names import MetricName

DEFAULT_QUERY = "SELECT dataset, max(loaded_at) FROM platform.dataset_loads GROUP BY dataset"
ENV_DSN = "ZWVL_DATASETS_DSN"
ENV_CA_FILE = "ZWVL_CA_FILE"
VERIFYING = ("verify-full", "verify-ca")


def tls_options(dsn: str, environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The libpq options that make a TCP connection verify the server: sslmode verify-full unless the
    DSN (or PGSSLMODE) names a verifying mode, sslrootcert from ZWVL_CA_FILE unless named. Raises
    ValueError (naming the mode only, never the DSN) for a mode that does not verify."""
    env = os.environ if environ is None else environ
    params = conninfo_to_dict(dsn)
    host = str(params.get("host") or env.get("PGHOST") or "")
    if not params.get("hostaddr") and (not host or all(h.startswith("/") for h in host.split(","))):
        return {}  # a Unix socket: no TLS there
    out: dict[str, str] = {}
    sslmode = str(params.get("sslmode") or env.get("PGSSLMODE") or "")
    if not sslmode:
        out["sslmode"] = "verify-full"
    elif sslmode not in VERIFYING:
        raise ValueError(
            f"the data platform DSN's sslmode={sslmode} does not verify the server's certificate: "
            "use verify-full (the default) with the region CA"
        )
    if not params.get("sslrootcert") and not env.get("PGSSLROOTCERT") and env.get(ENV_CA_FILE):
        out["sslrootcert"] = env[ENV_CA_FILE]
    return out


class DatasetFreshnessSource:
    name = "datasets"

    def __init__(self, cache: ModelCache, dsn: str, query: str = DEFAULT_QUERY, timeout: float = 5.0) -> None:
        self.cache = cache
        self.dsn = dsn
        self.tls = tls_options(dsn)  # refuses an unverified TLS mode at start
        self.query = query
        self.timeout = timeout

    def read(self) -> dict[str, float]:
        try:
            with psycopg.connect(
                make_conninfo(self.dsn, **self.tls),
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
