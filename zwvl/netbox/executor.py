"""Carry out a plan: bulk list payloads in dependency order, both NetBox workers kept busy.

- Deletes first, in reverse dependency order (a batch NetBox refuses because something still depends
  on it, HTTP 409, is retried after the creates and updates); then creates and updates level by level
  (kinds in one level do not reference each other); then the deferred fields (a device's primary IPv4
  needs its IP address, which needs the device's interface).
- Each kind's operations are cut into chunks by write cost (a device also writes its interfaces) and
  run ``concurrency`` at a time. Chunks in the same *lane* never run together: NetBox serialises them
  anyway on a shared row (the device type's device counter, the prefix hierarchy), so running them in
  parallel would only park a worker. Circuit terminations and cables of one circuit stay in one chunk.
- No reads per object: ids come from the state read once and from the bulk-create answers. Devices'
  interfaces, which NetBox creates from the templates, are listed once after the devices are written.
- A POST that timed out, lost its connection or got a 5xx answer may have been committed: the affected
  kind is re-read and only what is still missing is sent again (a few times at most). Every bulk
  request is atomic in NetBox, so an interrupted apply leaves whole chunks, and the next run (natural
  keys, not blind creates) converges. The apply lock's ``write_guard`` stops the writes of an apply
  that lost its lock before the next request.
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import KW_ONLY, dataclass, field
from typing import Any

from zwvl.netbox.client import AmbiguousWrite, Counters, NetboxClient, NetboxError, NetboxRequestError
from zwvl.netbox.kinds import BY_NAME, CF_HASH, CF_SOURCE, LEVELS, ORDER, TAG, Ref
from zwvl.netbox.plan import Op
from zwvl.netbox.state import State, read_state
from zwvl.procs import Progress

BOOKKEEPING = {"cf." + CF_SOURCE, "cf." + CF_HASH}
RECOVER_ATTEMPTS = 3
"""Ambiguous creates of one chunk before the apply gives up (each followed by a re-read)."""


class ApplyError(NetboxError):
    """A write was refused; the message names the objects and NetBox's reasons."""


@dataclass
class Chunk:
    kind: str
    action: str
    ops: list[Op]
    lane: str | None
    weight: float


@dataclass
class ApplyReport(Counters):
    created: int = 0
    updated: int = 0
    deleted: int = 0
    write_requests: int = 0
    objects_written: int = 0
    seconds: float = 0.0
    levels: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {**super().as_dict(), "seconds": round(self.seconds, 3)}


def _noop(_: str) -> None:
    return None


@dataclass(eq=False)
class Executor:
    client: NetboxClient
    state: State
    _: KW_ONLY
    concurrency: int = 2
    chunk_weight: float = 60.0
    max_chunk: int = 250
    progress: Progress = _noop
    index: dict[str, dict[tuple[str, ...], int]] = field(init=False, repr=False)
    report: ApplyReport = field(init=False, default_factory=ApplyReport)
    _lock: threading.Lock = field(init=False, repr=False, default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.concurrency = max(1, self.concurrency)
        self.index = defaultdict(dict)
        for name, by_key in self.state.by_key.items():
            for key in by_key:
                rec = self.state.find(name, key)
                if rec is not None:
                    self.index[name][key] = rec.id

    # ------------------------------------------------------------------------------------ payloads

    def resolve(self, ref: Ref, op: Op, name: str) -> int:
        obj_id = self.index.get(ref.kind, {}).get(ref.key)
        if obj_id is None:
            raise ApplyError(f"{op.title}: {name} refers to {ref.kind} {ref} which does not exist in NetBox")
        return obj_id

    def payload(self, op: Op, fields: dict[str, Any]) -> dict[str, Any]:
        spec = BY_NAME[op.kind]
        body: dict[str, Any] = {}
        cfs: dict[str, Any] = {}
        for name, value in fields.items():
            if name.startswith("cf."):
                cfs[name[3:]] = value
            elif name in spec.generic:
                type_field, id_field = spec.generic[name]
                if value is None:
                    body[type_field] = None
                    body[id_field] = None
                else:
                    body[type_field] = value.kind
                    body[id_field] = self.resolve(value, op, name)
            elif name in spec.ref_lists:
                body[name] = [{"object_type": r.kind, "object_id": self.resolve(r, op, name)} for r in value]
            elif name in spec.refs:
                body[name] = None if value is None else self.resolve(value, op, name)
            else:
                body[name] = value
        if cfs:
            body["custom_fields"] = cfs
        if op.action == "create":
            body.update(dict.fromkeys(spec.create_nulls))
        if op.action == "create" and spec.taggable:
            body["tags"] = [{"slug": TAG}]
        if op.adopt_tags is not None:
            # add, not replace: the tags of a sparse-tag kind (interfaces) were not all read
            body["add_tags"] = [{"slug": TAG}]
        return body

    # ----------------------------------------------------------------------------------- chunking

    def lane(self, op: Op) -> str | None:
        if op.kind == "dcim.device":
            dtype = op.fields.get("device_type")
            if dtype is None and op.id is not None:
                rec = self.state.by_id.get("dcim.device", {}).get(op.id)
                dtype = rec.fields.get("device_type") if rec else None
            if op.action in ("create", "delete") or "device_type" in op.fields:
                return f"devicetype {dtype}"
            return None
        if op.kind == "dcim.interfacetemplate":
            return f"devicetype {op.key[0]}"
        if op.kind == "ipam.prefix":
            return "prefix"
        return None

    @staticmethod
    def cluster(op: Op) -> str:
        if op.kind == "circuits.circuittermination":
            return op.key[0]
        if op.kind == "dcim.cable":
            return op.key[0].rsplit("/", 1)[0]
        return f"{op.kind} {op.key}"

    def chunks(self, ops: list[Op]) -> list[Chunk]:
        groups: dict[tuple[str, str, str | None], list[Op]] = defaultdict(list)
        for op in ops:
            groups[(op.kind, op.action, self.lane(op))].append(op)
        total = sum(op.weight for op in ops)
        budget = min(self.chunk_weight, max(10.0, total / (2 * self.concurrency)))
        out: list[Chunk] = []
        for (kind, action, lane), group in groups.items():
            clusters: dict[str, list[Op]] = defaultdict(list)
            for op in group:
                clusters[self.cluster(op)].append(op)
            current: list[Op] = []
            weight = 0.0
            for members in clusters.values():
                w = sum(op.weight for op in members)
                if current and (weight + w > budget or len(current) + len(members) > self.max_chunk):
                    out.append(Chunk(kind, action, current, lane, weight))
                    current, weight = [], 0.0
                current.extend(members)
                weight += w
            if current:
                out.append(Chunk(kind, action, current, lane, weight))
        lane_weight: dict[str | None, float] = defaultdict(float)
        for ch in out:
            lane_weight[ch.lane] += ch.weight
        # longest lanes first, so that the two workers finish together
        out.sort(key=lambda ch: (-(lane_weight[ch.lane] if ch.lane else ch.weight), ORDER.index(ch.kind)))
        return out

    # ----------------------------------------------------------------------------------- running

    def run_chunks(
        self, chunks: list[Chunk], tolerate: Callable[[BaseException], bool] | None = None
    ) -> list[tuple[Chunk, BaseException]]:
        """Run chunks, at most ``concurrency`` at a time and one per lane; returns the failures.

        After a failure no new chunk is started, unless ``tolerate`` accepts it (e.g. a delete refused
        with 409, which is retried at the end)."""
        pending = list(chunks)
        failures: list[tuple[Chunk, BaseException]] = []
        stop = False
        running: dict[Future[Any], Chunk] = {}
        busy: set[str] = set()
        with ThreadPoolExecutor(max_workers=self.concurrency) as pool:
            while True:
                i = 0
                while not stop and len(running) < self.concurrency and i < len(pending):
                    ch = pending[i]
                    if ch.lane is not None and ch.lane in busy:
                        i += 1
                        continue
                    pending.pop(i)
                    try:
                        prepared = self.prepare(ch)
                    except ApplyError as exc:
                        failures.append((ch, exc))
                        stop = True
                        break
                    running[pool.submit(self.send, ch, prepared)] = ch
                    if ch.lane is not None:
                        busy.add(ch.lane)
                if not running:
                    break
                done, _ = wait(list(running), return_when=FIRST_COMPLETED)
                for fut in done:
                    ch = running.pop(fut)
                    if ch.lane is not None:
                        busy.discard(ch.lane)
                    problem = fut.exception()
                    if problem is not None:
                        failures.append((ch, problem))
                        stop = stop or tolerate is None or not tolerate(problem)
                        continue
                    self.record(ch, fut.result())
        return failures

    def prepare(self, ch: Chunk) -> list[Any]:
        if ch.action == "delete":
            return [op.id for op in ch.ops]
        bodies = []
        for op in ch.ops:
            body = self.payload(op, op.fields)
            if ch.action == "update":
                body = {"id": op.id, **body}
            bodies.append(body)
        return bodies

    def send(self, ch: Chunk, bodies: list[Any]) -> list[Any]:
        endpoint = BY_NAME[ch.kind].endpoint
        if ch.action == "create":
            try:
                return self.client.bulk_create(endpoint, bodies)
            except AmbiguousWrite:
                return self._recover_create(ch, bodies)
        if ch.action == "update":
            return self.client.bulk_update(endpoint, bodies)
        try:
            self.client.bulk_delete(endpoint, bodies)
        except NetboxRequestError as exc:
            if exc.status != 404:
                raise
            # a retried DELETE whose first attempt went through: delete what is left
            left = {int(r["id"]) for r in self.client.list(endpoint, params={"id": bodies}, fields=["id"])}
            self.client.bulk_delete(endpoint, [i for i in bodies if i in left])
        return []

    def _recover_create(self, ch: Chunk, bodies: list[Any]) -> list[Any]:
        """The POST may have been committed: re-read the kind and create only what is missing."""
        results: list[Any] = [None] * len(ch.ops)
        for attempt in range(1, RECOVER_ATTEMPTS + 1):
            self.progress(
                f"  {ch.kind}: a create got no clear answer; re-reading to see what NetBox committed ..."
            )
            fresh = read_state(self.client, [k for k in ORDER if LEVELS[k] <= LEVELS[ch.kind]])
            missing: list[int] = []
            for i, op in enumerate(ch.ops):
                if results[i] is not None:
                    continue
                rec = fresh.find(ch.kind, op.key)
                if rec is not None:
                    results[i] = {"id": rec.id}
                else:
                    missing.append(i)
            if not missing:
                break
            try:
                created = self.client.bulk_create(BY_NAME[ch.kind].endpoint, [bodies[i] for i in missing])
            except AmbiguousWrite:
                if attempt == RECOVER_ATTEMPTS:
                    raise
                continue
            for i, made in zip(missing, created, strict=True):
                results[i] = made
            break
        return results

    def record(self, ch: Chunk, results: list[Any]) -> None:
        with self._lock:
            if ch.action == "create":
                for op, obj in zip(ch.ops, results, strict=True):
                    self.index[ch.kind][op.key] = int(obj["id"])
            elif ch.action == "delete":
                for op in ch.ops:
                    self.index[ch.kind].pop(op.key, None)

    def refresh_interfaces(self, devices: list[tuple[str, ...]]) -> None:
        """Learn the ids of the interfaces NetBox instantiated for newly created devices."""
        ids = [self.index["dcim.device"][k] for k in devices if k in self.index["dcim.device"]]
        names = {self.index["dcim.device"][k]: k for k in devices if k in self.index["dcim.device"]}
        for start in range(0, len(ids), 150):
            batch = ids[start : start + 150]
            for rec in self.client.list(
                "dcim/interfaces", params={"device_id": batch}, fields=["id", "device", "name"]
            ):
                dev = rec.get("device") or {}
                dkey = names.get(int(dev.get("id", 0)))
                if dkey is not None:
                    self.index["dcim.interface"].setdefault(dkey + (str(rec["name"]),), int(rec["id"]))

    # ------------------------------------------------------------------------------------ the run

    def execute(self, ops: list[Op]) -> ApplyReport:
        t0 = time.monotonic()
        writes0 = self.client.stats.writes
        objects0 = self.client.stats.objects_written
        deletes = [op for op in ops if op.action == "delete"]
        forward = [op for op in ops if op.action != "delete"]
        postponed: list[Chunk] = []

        # 1. deletes, reverse dependency order
        by_level: dict[int, list[Op]] = defaultdict(list)
        for op in deletes:
            by_level[LEVELS[op.kind]].append(op)

        def conflict(exc: BaseException) -> bool:
            return isinstance(exc, NetboxRequestError) and exc.status == 409

        for level in sorted(by_level, reverse=True):
            failures = self.run_chunks(self.chunks(by_level[level]), tolerate=conflict)
            for ch, exc in failures:
                if not conflict(exc):
                    raise self._error(ch, exc)
                postponed.append(ch)
            self._say("delete", by_level[level], t0)

        # 2. creates and updates, level by level; deferred fields afterwards
        deferred: list[Op] = []
        by_level = defaultdict(list)
        for op in forward:
            spec = BY_NAME[op.kind]
            later = {n: v for n, v in op.fields.items() if n in spec.deferred}
            if later:
                rest = {n: v for n, v in op.fields.items() if n not in spec.deferred}
                if op.action == "update" and set(rest) <= BOOKKEEPING:
                    deferred.append(op)
                    continue
                main = Op(
                    op.action,
                    op.kind,
                    op.key,
                    op.id,
                    op.source,
                    rest,
                    op.changes,
                    op.weight,
                    op.adopt_tags,
                    op.reason,
                )
                by_level[LEVELS[op.kind]].append(main)
                if any(v is not None for v in later.values()) or op.action == "update":
                    deferred.append(Op("update", op.kind, op.key, op.id, op.source, later))
            else:
                by_level[LEVELS[op.kind]].append(op)
        for level in sorted(by_level):
            failures = self.run_chunks(self.chunks(by_level[level]))
            if failures:
                raise self._error(*failures[0])
            new_devices = [
                op.key for op in by_level[level] if op.kind == "dcim.device" and op.action == "create"
            ]
            if new_devices:
                self.refresh_interfaces(new_devices)
            self._say("write", by_level[level], t0)
        if deferred:
            for op in deferred:
                if op.id is None:
                    op.id = self.index[op.kind].get(op.key)
                if op.id is None:
                    raise ApplyError(f"{op.title}: was not created, cannot set {', '.join(op.fields)}")
            failures = self.run_chunks(self.chunks(deferred))
            if failures:
                raise self._error(*failures[0])
            self._say("deferred", deferred, t0)

        # 3. deletes that had to wait for the updates above
        if postponed:
            failures = self.run_chunks(postponed)
            if failures:
                raise self._error(*failures[0])
        self.report.created = sum(1 for op in ops if op.action == "create")
        self.report.updated = sum(1 for op in ops if op.action == "update")
        self.report.deleted = len(deletes)
        self.report.seconds = time.monotonic() - t0
        self.report.write_requests = self.client.stats.writes - writes0
        self.report.objects_written = self.client.stats.objects_written - objects0
        return self.report

    def _say(self, what: str, ops: list[Op], t0: float) -> None:
        counts: dict[str, int] = defaultdict(int)
        for op in ops:
            counts[f"{op.action} {op.kind}"] += 1
        text = ", ".join(f"{n} {k}" for k, n in counts.items())
        self.progress(f"[{time.monotonic() - t0:6.1f}s] {text}")

    def _error(self, ch: Chunk, exc: BaseException) -> BaseException:
        if isinstance(exc, NetboxRequestError):
            return ApplyError(f"NetBox refused {ch.action} of {len(ch.ops)} {ch.kind}: " + _explain(ch, exc))
        return exc


def _explain(ch: Chunk, exc: NetboxRequestError) -> str:
    body = exc.body
    if not isinstance(body, dict) or not isinstance(body.get("errors"), list):
        return str(exc)
    parts = []
    for err in body["errors"][:5]:
        if not isinstance(err, dict):
            continue
        who = "?"
        if "index" in err and isinstance(err["index"], int) and err["index"] < len(ch.ops):
            who = " ".join(ch.ops[err["index"]].key)
        elif "id" in err:
            who = next((" ".join(op.key) for op in ch.ops if op.id == err["id"]), f"id {err['id']}")
        detail = err.get("errors")
        if isinstance(detail, dict):
            text = "; ".join(
                f"{k}: {' '.join(map(str, v)) if isinstance(v, list) else v}" for k, v in detail.items()
            )
        else:
            text = str(detail)
        parts.append(f"{who}: {text}")
    more = len(body["errors"]) - len(parts)
    return " | ".join(parts) + (f" (and {more} more)" if more > 0 else "")
