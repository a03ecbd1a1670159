"""The shared data platform (PostgreSQL) and the pooled helpdesk (Request Tracker 5).

- `plan`: the desired state derived from the domain model (pure, no I/O): databases, roles, dataset
  schemas and grants per partner; RT queues, pool groups, members, rights and the uniform SLA set.
- `providers`: the Pulumi dynamic providers as a library, with real create/read/diff/update/delete:
  `providers.postgres` (psycopg) and `providers.rt` (requests; its `client` is also the exporter's
  RT client), one resource a module. `pg` and `rt` only keep the old names importable for the state.
- `stack`: what the two Pulumi programs share (the stack's inventory, the options of a component's
  children); the programs themselves, with their components and unit tests, are in `pulumi/<project>/`.
- `mocks`: runs a program under `pulumi.runtime.set_mocks` and records its resource graph (unit tests).
- `sla`: Brussels business-hours arithmetic and the SLA-name guard used before talking to RT.
"""
