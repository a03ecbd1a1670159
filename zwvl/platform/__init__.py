"""The shared data platform (PostgreSQL) and the pooled helpdesk (Request Tracker 5).

- `plan`: the desired state derived from the domain model (pure, no I/O): databases, roles, dataset
  schemas and grants per partner; RT queues, pool groups, members, rights and the uniform SLA set.
- `pg`, `rt`: Pulumi dynamic providers with real create/read/diff/update/delete (psycopg, requests).
- `programs`: the two Pulumi programs' resource graphs (`pulumi/data-platform`, `pulumi/helpdesk`).
- `sla`: Brussels business-hours arithmetic and the SLA-name guard used before talking to RT.
"""
