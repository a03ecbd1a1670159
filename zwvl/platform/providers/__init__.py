"""The Pulumi dynamic providers of the data platform and the helpdesk, as a library the programs
(`pulumi/<project>/`) declare resources with: `Kind(resource_name, KindArgs(...), opts)`.

- `dynamic`: what every provider shares: `Provider` (the declared inputs `diff` compares, which need a
  replacement, which are sets; stack settings), `ResourceArgs` and `DynamicResource`.
- `postgres`: PostgreSQL (psycopg): `base` (connection, advisory lock), then one module a resource:
  `role`, `database`, `schema`, `table`, `grant`, `membership`, `password`.
- `rt`: Request Tracker 5: `client` (REST2 and the admin web interface; the exporter reads RT with it
  too), `base` (credentials, named records), then `queue`, `user`, `group` (and its members),
  `custom_field` (and the queues it applies to), `rights`.

Pulumi pickles a provider into the state by its module path: moving a provider class to another
module needs the old name kept importable (see `zwvl/platform/pg.py`, `zwvl/platform/rt.py`).
"""
