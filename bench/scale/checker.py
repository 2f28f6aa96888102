"""Invariant checker for a scale run: nothing lost, nothing done twice, nothing left hanging.

    python -m bench.scale.checker --ini scale.ini --run-config run-config.json \
        --acks acks.jsonl --sink smtp-sink.jsonl --out check.json

It reads the portal's database, file storage, Redis and the SMTP server's log after the load
has ended and the queues have drained, and compares them with what the load generator was told
(`acks.jsonl`). Each check prints PASS or FAIL with counts and the first violations:

submissions       every acknowledged submission exists exactly once, with the id the client got;
                  a submission whose client saw an error exists at most once
files             every request of the load has its three documents; every stored file's bytes
                  match its recorded SHA-256 and the hashes the client sent; every file an
                  event names exists
event_chains      for every request (historical ones too): events 1..n with no gap, each a
                  transition of the workflow from the state the previous one reached; the
                  request's state and version are those of its last event
transitions_once  one event per request version; every acknowledged transition is there
                  exactly once; no two clients were both told they applied the same step; a
                  client told "already handled" lost to a step that really exists; every step
                  no client was told about matches a call that failed on the client's side
letters           every finished request of the load has a signed reply whose bytes match, that
                  verify_pdf finds valid (two paraf and the final signature, trusted chain)
notifications     every message each step of the load calls for is in the outbox, sent, and
                  received by the SMTP server exactly once (by its Message-ID)
delivery          every finished request is delivered as its private dataset with the letter
                  and every result file (hashes equal), once
jobs              no work left to a job that will never run: nothing unsent or undelivered, every
                  failed or abandoned (started, worker killed) job's work done by a later run
open_requests     every open request of the load waits for someone who exists
"""
from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

MARKER = "skalauji"
REF = re.compile(r"ref:([0-9a-f]{32})")
SHOW = 15  # violations listed per check


@dataclass
class Check:
    name: str
    checked: int = 0
    violations: list[str] = field(default_factory=list)
    info: dict[str, Any] = field(default_factory=dict)
    skipped: str | None = None

    @property
    def ok(self) -> bool:
        return not self.violations

    def fail(self, message: str) -> None:
        self.violations.append(message)

    def line(self) -> str:
        if self.skipped:
            return f"SKIP {self.name}: {self.skipped}"
        extra = ", ".join(f"{k} {v}" for k, v in self.info.items() if not isinstance(v, list))
        head = f"{'PASS' if self.ok else 'FAIL'} {self.name}: {self.checked} checked"
        head += f", {len(self.violations)} violations" if self.violations else ""
        return head + (f" ({extra})" if extra else "")

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "ok": self.ok, "checked": self.checked,
                "violations": self.violations[:200], "violation_count": len(self.violations),
                "info": self.info, "skipped": self.skipped}


def load_jsonl(path: Path | None) -> list[dict[str, Any]]:
    if path is None or not path.exists():
        return []
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line:
            try:
                out.append(json.loads(line))
            except ValueError:
                continue  # a line cut by a killed writer
    return out


class Checker:
    def __init__(self, run_config: dict[str, Any], acks: list[dict[str, Any]],
                 sink: list[dict[str, Any]]) -> None:
        import ckan.model as model

        from ckanext.statrequest import settings

        self.model = model
        self.session = model.Session
        self.wf = settings.workflow()
        self.config = run_config
        self.floors = run_config.get("floors", {})
        self.acks: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for a in acks:
            self.acks[a["type"]].append(a)
        self.sink = sink
        self.faults: list[dict[str, Any]] = []  # what run.py injected (for `notifications`)
        self.checks: list[Check] = []
        self._load_requests()

    # --- data -----------------------------------------------------------------------------

    def sql(self, statement: str, **params: Any) -> list[Any]:
        from sqlalchemy import text

        return list(self.session.execute(text(statement), params))

    def _load_requests(self) -> None:
        """The requests this load created (their titles carry the marker)."""
        rows = self.sql(
            "SELECT id, tracking_number, description, state, version, outcome, assignee_id, "
            "letter_attachment_id, delivered_package_id, closed_at, requester_id "
            "FROM statrequest_request WHERE title LIKE :m", m=f"%{MARKER}%")
        self.requests = {r.id: r for r in rows}
        self.by_ref: dict[str, list[Any]] = defaultdict(list)
        for r in rows:
            m = REF.search(r.description or "")
            self.by_ref[m.group(1) if m else ""].append(r)
        self.attachments: dict[str, list[Any]] = defaultdict(list)
        if self.requests:
            for a in self.sql(
                    "SELECT id, request_id, kind, file_id, name, size, sha256, deleted_at "
                    "FROM statrequest_attachment WHERE request_id = ANY(:ids)",
                    ids=list(self.requests)):
                self.attachments[a.request_id].append(a)

    def read_file(self, file_id: str) -> bytes:
        from ckanext.statrequest.lib import attachments

        return b"".join(attachments.read(file_id))

    # --- checks ---------------------------------------------------------------------------

    def check_submissions(self) -> Check:
        c = Check("submissions")
        acked = {a["ref"]: a for a in self.acks["submit"]}
        failed = {a["ref"]: a for a in self.acks["submit_error"]}
        # a call whose answer never came (the load generator stopped or was cut off)
        for a in self.acks["submit_start"]:
            if a["ref"] not in acked and a["ref"] not in failed:
                failed[a["ref"]] = a
        for ref, a in acked.items():
            c.checked += 1
            rows = self.by_ref.get(ref, [])
            if not rows:
                c.fail(f"acknowledged submission {a['tracking']} ({ref}) is missing")
            elif len(rows) > 1:
                c.fail(f"submission {ref} exists {len(rows)} times")
            elif rows[0].id != a["id"]:
                c.fail(f"submission {ref}: client got id {a['id']}, database has {rows[0].id}")
        written_anyway = 0
        for ref in failed:
            c.checked += 1
            n = len(self.by_ref.get(ref, []))
            if n > 1:
                c.fail(f"failed submission {ref} exists {n} times")
            written_anyway += n
        unknown = [r.tracking_number for ref, rows in self.by_ref.items()
                   if ref not in acked and ref not in failed for r in rows]
        for number in unknown:
            c.fail(f"request {number} was made by no client call on record")
        tracking = Counter(r.tracking_number for r in self.requests.values())
        for number, n in tracking.items():
            if n > 1:
                c.fail(f"tracking number {number} used {n} times")
        c.info.update(acknowledged=len(acked), client_errors=len(failed),
                      written_although_client_saw_error=written_anyway,
                      load_requests=len(self.requests))
        return c

    def check_files(self) -> Check:
        c = Check("files")
        acked = {a["id"]: a for a in self.acks["submit"]}
        required = ("identity_document", "request_letter", "data_form")
        for rid, r in self.requests.items():
            rows = [a for a in self.attachments[rid] if a.deleted_at is None]
            kinds = Counter(a.kind for a in rows)
            for kind in required:
                if not kinds[kind]:
                    c.fail(f"{r.tracking_number}: no {kind}")
            by_sha = defaultdict(set)
            for a in rows:
                by_sha[a.kind].add(a.sha256)
            for kind, digest in (acked.get(rid) or {}).get("files", {}).items():
                if digest not in by_sha[kind]:
                    c.fail(f"{r.tracking_number}: the {kind} the client sent is not stored")
        for a in self.acks["transition"]:
            rows = self.attachments.get(a["id"], [])
            for kind, digest in (a.get("files") or {}).items():
                if not any(x.kind == kind and x.sha256 == digest for x in rows):
                    c.fail(f"request {a['id']}: {kind} uploaded with {a['transition']} is "
                           "not stored")
        bytes_checked = 0
        for rid, rows in self.attachments.items():
            for a in rows:
                if a.deleted_at is not None:
                    continue
                c.checked += 1
                if not a.file_id:
                    c.fail(f"attachment {a.id} ({a.kind}) of {rid} has no file")
                    continue
                try:
                    data = self.read_file(a.file_id)
                except Exception as exc:  # noqa: BLE001 - reported as a violation
                    c.fail(f"attachment {a.id} ({a.kind}): file unreadable ({exc})")
                    continue
                bytes_checked += len(data)
                if hashlib.sha256(data).hexdigest() != a.sha256 or len(data) != a.size:
                    c.fail(f"attachment {a.id} ({a.kind}) of {rid}: bytes do not match the "
                           "recorded SHA-256/size")
        # every file an event of the load names exists and belongs to the request
        ids = {a.id: a.request_id for rows in self.attachments.values() for a in rows}
        for e in self.sql("SELECT id, request_id, transition, data FROM statrequest_event "
                          "WHERE id > :f AND data ? 'files'", f=self.floors.get("event_id", 0)):
            listed = e.data.get("files") or []
            wrong = [fid for fid in listed if ids.get(fid) != e.request_id]
            if wrong:
                c.fail(f"event {e.id} ({e.transition} on {e.request_id}) lists the files "
                       f"{listed}: {wrong} are not attachments of the request")
        orphans = self._orphans()
        c.info.update(orphan_files=len(orphans), orphan_examples=orphans[:10],
                      megabytes_read=round(bytes_checked / 1e6, 1))
        return c

    def _storage(self) -> Any:
        """CKAN's storage of the attachments (local disk or the object store)."""
        from ckan.lib import files

        from ckanext.statrequest import settings

        return files.get_storage(settings.file_storage())

    def _orphans(self) -> list[str]:
        """Stored bytes that neither a file row nor a resource points to: left by a process
        killed between writing a file and rolling back (garbage, not lost work). Listed
        through the storage itself, so an object store is checked like a local directory."""
        import file_keeper as fk

        from ckanext.statrequest import settings

        storage = self._storage()
        if not storage.supports(fk.Capability.SCAN):
            return []
        known = {row.location for row in self.sql(
            'SELECT location FROM "file" WHERE storage = :s', s=settings.file_storage())}
        resources = {row.id for row in self.sql("SELECT id FROM resource")}
        out = []
        for location in storage.scan():
            parts = Path(location).parts
            if location in known:
                continue
            if parts and parts[0] == "resources" and "".join(parts[1:]) in resources:
                continue  # CKAN's resource upload (delivery) keeps no file row
            out.append(location)
        return sorted(out)

    def check_event_chains(self) -> Check:
        c = Check("event_chains")
        wf = self.wf
        requests = {r.id: r for r in self.sql(
            "SELECT id, state, version, closed_at FROM statrequest_request")}
        from sqlalchemy import text

        result = self.session.execute(
            text("SELECT request_id, version, transition, from_state, to_state "
                 "FROM statrequest_event ORDER BY request_id, version"),
            execution_options={"stream_results": True, "yield_per": 20000})
        current: str | None = None
        prev: Any = None
        seen: set[str] = set()
        overrides = 0
        events = 0

        def close(rid: str | None, last: Any) -> None:
            if rid is None:
                return
            r = requests.get(rid)
            if r is None:
                c.fail(f"events of unknown request {rid}")
                return
            if last.to_state != r.state:
                c.fail(f"{rid}: state {r.state}, but its last event leads to {last.to_state}")
            if last.version != r.version:
                c.fail(f"{rid}: version {r.version}, but its last event is {last.version}")
            if wf.is_final(r.state) and r.closed_at is None:
                c.fail(f"{rid}: final state {r.state} without closed_at")

        for e in result:
            events += 1
            if e.request_id != current:
                close(current, prev)
                current, prev = e.request_id, None
                seen.add(e.request_id)
                c.checked += 1
            expected_version = 1 if prev is None else prev.version + 1
            if e.version != expected_version:
                c.fail(f"{e.request_id}: event version {e.version}, expected {expected_version}")
            if prev is None:
                if e.transition != "ajukan" or e.from_state is not None \
                        or e.to_state != wf.initial:
                    c.fail(f"{e.request_id}: first event is {e.transition} "
                           f"{e.from_state}->{e.to_state}")
            elif e.transition == "override":
                overrides += 1
            else:
                t = wf.transitions.get(e.transition)
                if t is None:
                    c.fail(f"{e.request_id} v{e.version}: unknown transition {e.transition}")
                elif e.from_state != prev.to_state:
                    c.fail(f"{e.request_id} v{e.version}: {e.transition} from {e.from_state}, "
                           f"but the request was in {prev.to_state}")
                elif e.from_state not in t.sources or e.to_state != t.target:
                    c.fail(f"{e.request_id} v{e.version}: {e.transition} "
                           f"{e.from_state}->{e.to_state} is not in the workflow")
            prev = e
        close(current, prev)
        for rid in set(requests) - seen:
            c.fail(f"request {rid} has no events")
        c.info.update(requests=len(requests), events=events, overrides=overrides)
        return c

    def check_transitions_once(self) -> Check:
        c = Check("transitions_once")
        for row in self.sql("SELECT request_id, version, count(*) AS n FROM statrequest_event "
                            "GROUP BY request_id, version HAVING count(*) > 1"):
            c.fail(f"{row.request_id}: {row.n} events with version {row.version}")
        floor = self.floors.get("event_id", 0)
        events = {(e.request_id, e.version): e for e in self.sql(
            "SELECT id, request_id, version, transition, actor_id FROM statrequest_event "
            "WHERE request_id = ANY(:ids)", ids=list(self.requests) or [""])}
        told = Counter()
        for a in self.acks["transition"]:
            c.checked += 1
            key = (a["id"], a["version"] + 1)
            told[key] += 1
            e = events.get(key)
            if e is None or e.transition != a["transition"]:
                c.fail(f"acknowledged {a['transition']} on {a['id']} (version {a['version']}) "
                       "is not recorded")
            elif a.get("new_version") not in (None, a["version"] + 1):
                c.fail(f"{a['id']}: client got version {a['new_version']} after "
                       f"{a['transition']} from {a['version']}")
        for key, n in told.items():
            if n > 1:
                c.fail(f"{n} clients were told they applied step {key[1]} of {key[0]}")
        for a in self.acks["conflict"]:
            c.checked += 1
            if (a["id"], a["version"] + 1) not in events:
                c.fail(f"{a['id']}: {a['user']} was told version {a['version']} was already "
                       "handled, but no step followed it")
        errors = defaultdict(list)
        for a in self.acks["transition_error"]:
            errors[(a["id"], a["version"] + 1)].append(a)
        for a in self.acks["transition_start"]:  # calls whose answer never came
            errors[(a["id"], a["version"] + 1)].append(a)
        unacknowledged = 0
        for key, e in events.items():
            if e.id <= floor or e.version == 1 or told[key]:
                continue
            unacknowledged += 1
            if not any(x["transition"] == e.transition for x in errors.get(key, [])):
                c.fail(f"{key[0]} v{key[1]}: {e.transition} was applied, but no client call "
                       "on record asked for it")
        c.info.update(acknowledged=len(self.acks["transition"]),
                      already_handled_refusals=len(self.acks["conflict"]),
                      client_errors=len(self.acks["transition_error"]),
                      applied_although_client_saw_error=unacknowledged)
        return c

    def check_letters(self) -> Check:
        c = Check("letters")
        from ckanext.statrequest.documents.verify import verify_pdf
        from ckanext.statrequest.logic.action.delivery import trust_roots

        roots = trust_roots()
        if not roots:
            c.fail("no trust root configured")
        by_id = {a.id: a for rows in self.attachments.values() for a in rows}
        statuses: Counter[str] = Counter()
        for rid, r in self.requests.items():
            if r.state != "selesai":
                continue
            c.checked += 1
            letter = by_id.get(r.letter_attachment_id or "")
            if letter is None or letter.kind != "signed_reply" or letter.deleted_at is not None:
                c.fail(f"{r.tracking_number}: finished without a signed reply")
                continue
            data = self.read_file(letter.file_id)
            if hashlib.sha256(data).hexdigest() != letter.sha256:
                c.fail(f"{r.tracking_number}: signed reply bytes differ from the record")
                continue
            verdict = verify_pdf(data, roots)
            statuses[verdict.status] += 1
            if verdict.status != "valid":
                c.fail(f"{r.tracking_number}: signed reply is {verdict.status} "
                       f"{list(verdict.reasons)}")
            signatures = [s for s in verdict.signers if s.kind == "signature"]
            if len(signatures) != 3:
                c.fail(f"{r.tracking_number}: {len(signatures)} signatures, expected 2 paraf "
                       "and the final signature")
            if verdict.letter_number != self._letter_number(rid):
                c.fail(f"{r.tracking_number}: letter number in the PDF "
                       f"{verdict.letter_number!r} differs from the request's")
        checked_by_clients = Counter(a["status"] for a in self.acks["verify_ok"])
        for a in self.acks["verify_wrong"]:
            c.fail(f"verification API said {a['status']!r} for a "
                   f"{'genuine' if a['expected_valid'] else 'tampered'} letter of {a['id']}")
        c.info.update(verdicts=dict(statuses), client_checks=dict(checked_by_clients))
        return c

    def _letter_number(self, request_id: str) -> str | None:
        rows = self.sql("SELECT letter_number FROM statrequest_request WHERE id = :i",
                        i=request_id)
        return rows[0].letter_number if rows else None

    def check_notifications(self) -> Check:
        c = Check("notifications")
        try:
            from ckanext.statrequest.lib import notifications
            from ckanext.statrequest.model import Event, Request
        except ImportError:
            c.skipped = "no notifications module"
            return c
        if not self.sql("SELECT to_regclass('statrequest_notification') AS tbl")[0].tbl:
            c.skipped = "no outbox table"
            return c
        import ckantoolkit as tk
        from sqlalchemy import select

        host = urlparse(tk.config.get("ckan.site_url")).hostname or "localhost"
        received = Counter(m["message_id"] for m in self.sink)
        arrivals = defaultdict(list)
        for m in self.sink:
            arrivals[m["message_id"]].append(float(m.get("t") or 0))
        # the kills of a job sending email by the `kill_worker` fault: one email's job
        # (statrequest-email-<id>) or a batch (`send_due`, any of the emails in flight)
        mail_kills = []
        for f in self.faults:
            detail = f.get("detail") or {}
            job = str(detail.get("job_id") or "")
            if f.get("fault") == "kill_worker" and (
                    job.startswith("statrequest-email-")
                    or any(n in str(detail.get("job") or "") for n in ("send_due",
                                                                       "send_notification"))):
                mail_kills.append((job, float(f.get("end") or 0)))
        in_flight = max(int(tk.config.get("ckanext.statrequest.notify.batch_threads") or 1), 1)
        explained_by: Counter[str] = Counter()
        duplicates = 0
        resent = []
        floor_n = self.floors.get("notification_id", 0)
        rows = self.sql("SELECT id, event_key, recipient, kind, sent_at, attempts, last_error "
                        "FROM statrequest_notification WHERE id > :f", f=floor_n)
        actual = defaultdict(set)
        unsent = 0
        for row in rows:
            c.checked += 1
            actual[row.event_key].add((row.recipient, row.kind))
            n = received.pop(f"<statrequest-{row.id}@{host}>", 0)
            if row.sent_at is None:
                unsent += 1
                c.fail(f"email {row.id} ({row.kind}, {row.event_key}) was never sent "
                       f"(attempts {row.attempts}, {row.last_error})")
            elif n == 0:
                c.fail(f"email {row.id} is marked sent but the mail server never got it")
            elif n > 1:
                duplicates += 1
                first = min(arrivals[f"<statrequest-{row.id}@{host}>"])
                # SMTP has no exactly-once. The one window left: the sender killed after it
                # sent the message's end and before its COMMIT (lib/jobs.py). The server may
                # still accept a message whose sender is dead (it finishes before it sees the
                # connection gone: bench/mail.py measured up to 17 ms after the kill). Such a
                # copy carries the same Message-ID, by which mail systems drop it; it is
                # counted, and printed, as `duplicates at the SMTP server` (#16). Any other
                # duplicate fails: one copy, a kill of that email's job (or of a batch, at most
                # its senders in flight) at most 3 s after and 2 s before its first copy
                killer = next((job for job, end in mail_kills if -2 <= end - first <= 3 and (
                    job == f"statrequest-email-{row.id}" if job.startswith("statrequest-email-")
                    else explained_by[job] < in_flight)), None)
                if n == 2 and killer is not None:
                    explained_by[killer] += 1
                    resent.append(row.id)
                else:
                    near = [round(end - first, 2) for _job, end in mail_kills]
                    c.fail(f"email {row.id} ({row.kind}) reached the mail server {n} times "
                           f"(mail jobs killed at {near} s from its first copy)")
        wf = self.wf
        events = self.session.scalars(select(Event).where(
            Event.id > self.floors.get("event_id", 0),
            Event.request_id.in_(list(self.requests) or [""])).order_by(Event.id)).all()
        missing = 0
        for event in events:
            request = self.session.get(Request, event.request_id)
            if request is None or event.to_state not in wf.states:
                continue
            expected = {(m.recipient.key, m.kind)
                        for m in notifications.transition_messages(request, event, wf)}
            lost = expected - actual.get(f"event:{event.id}", set())
            for recipient, kind in sorted(lost):
                missing += 1
                c.fail(f"event {event.id} ({event.transition} on {request.tracking_number}): "
                       f"{kind} email to {recipient} was never queued")
        c.info.update(outbox_rows=len(rows), unsent=unsent, never_queued=missing,
                      events=len(events), unknown_messages_at_server=sum(received.values()),
                      duplicates_at_smtp_server=duplicates,
                      resent_after_sender_killed=resent[:50])
        return c

    def check_delivery(self) -> Check:
        c = Check("delivery")
        try:
            from ckanext.statrequest.lib import delivery
        except ImportError:
            c.skipped = "no delivery module"
            return c
        import ckantoolkit as tk
        from ckan.lib import files

        model = self.model
        # CKAN's resource storage (derived from the default one: a folder or a key prefix)
        resource_storage = files.get_storage(tk.config["ckan.files.default_storages.resource"])
        compared = 0
        for rid, r in self.requests.items():
            if r.state != "selesai":
                continue
            c.checked += 1
            expected = delivery.package_id_for(rid)
            if r.delivered_package_id != expected:
                c.fail(f"{r.tracking_number}: not delivered (delivered_package_id "
                       f"{r.delivered_package_id})")
                continue
            pkg = model.Package.get(expected)
            if pkg is None or pkg.state != "active" or not pkg.private:
                c.fail(f"{r.tracking_number}: delivery dataset missing, deleted or public")
                continue
            resources = {res.id: res for res in pkg.resources_all if res.state == "active"}
            wanted = [a for a in self.attachments[rid] if a.deleted_at is None and (
                a.kind == "result" or a.id == r.letter_attachment_id)]
            for a in wanted:
                rid_ = delivery.resource_id_for(a.id)
                res = resources.get(rid_)
                if res is None:
                    c.fail(f"{r.tracking_number}: {a.kind} {a.name} is not in the dataset")
                    continue
                if res.hash and res.hash != a.sha256:
                    c.fail(f"{r.tracking_number}: resource of {a.name} has another hash")
                stored = files.FileData(files.Location(f"{rid_[:3]}/{rid_[3:6]}/{rid_[6:]}"))
                if not resource_storage.exists(stored):
                    c.fail(f"{r.tracking_number}: the delivered file {a.name} is not stored")
                    continue
                data = b"".join(resource_storage.stream(stored))
                if hashlib.sha256(data).hexdigest() != a.sha256:
                    c.fail(f"{r.tracking_number}: the delivered bytes of {a.name} differ")
                compared += 1
            if len(resources) != len(wanted):
                c.fail(f"{r.tracking_number}: dataset has {len(resources)} resources, "
                       f"expected {len(wanted)}")
        dup = self.sql("SELECT name, count(*) AS n FROM package WHERE name LIKE :p "
                       "GROUP BY name HAVING count(*) > 1", p="permintaan-data-%")
        for row in dup:
            c.fail(f"dataset name {row.name} used {row.n} times")
        c.info["resource_files_compared"] = compared
        return c

    def check_jobs(self, redis_url: str, site_id: str) -> Check:
        c = Check("jobs")
        import redis as redis_lib
        from rq import Queue
        from rq.job import Job
        from rq.registry import FailedJobRegistry, ScheduledJobRegistry, StartedJobRegistry

        conn = redis_lib.Redis.from_url(redis_url)
        prefix = f"ckan:{site_id}:"
        names = [q.name for q in Queue.all(connection=conn) if q.name.startswith(prefix)] \
            or [prefix + "default"]
        queued = failed_done = abandoned_done = scheduled = 0
        live_workers = {w.decode() for w in conn.smembers("rq:workers")}
        for name in names:
            q = Queue(name, connection=conn)
            queued += q.count  # they will run (a duplicate finds its work done)
            scheduled += ScheduledJobRegistry(queue=q).count
            for job_id in FailedJobRegistry(queue=q).get_job_ids():
                c.checked += 1
                if self._job_done(Job, conn, job_id, c, "failed"):
                    failed_done += 1
            for job_id in StartedJobRegistry(queue=q).get_job_ids():
                c.checked += 1
                if self._job_done(Job, conn, job_id, c, "started (its worker may be dead)"):
                    abandoned_done += 1
        unsent = self.sql("SELECT count(*) AS n FROM statrequest_notification "
                          "WHERE sent_at IS NULL")[0].n \
            if self.sql("SELECT to_regclass('statrequest_notification') AS tbl")[0].tbl else 0
        if unsent:
            c.fail(f"{unsent} emails are still unsent")
        try:
            from ckanext.statrequest.lib import delivery

            pending = delivery.pending()
        except ImportError:
            pending = []
        if pending:
            c.fail(f"{len(pending)} finished requests are not delivered: {pending[:5]}")
        c.info.update(queued=queued, scheduled=scheduled, failed_jobs_whose_work_is_done=
                      failed_done, started_jobs_whose_work_is_done=abandoned_done,
                      live_workers=len(live_workers))
        return c

    def _job_done(self, job_cls: Any, conn: Any, job_id: str, c: Check, what: str) -> bool:
        """Whether a job that did not finish has had its work done by another run."""
        try:
            job = job_cls.fetch(job_id, connection=conn)
            func, args = job.func_name, list(job.args or [])
        except Exception:  # noqa: BLE001 - the job's data expired: nothing to judge by
            return True
        if func.endswith("send_notification") and args:
            row = self.sql("SELECT sent_at FROM statrequest_notification WHERE id = :i",
                           i=int(args[0]))
            if row and row[0].sent_at is None:
                c.fail(f"{what} job {job_id}: email {args[0]} is still unsent")
                return False
            return True
        if func.endswith("deliver") and args:
            row = self.sql("SELECT delivered_package_id, state FROM statrequest_request "
                           "WHERE id = :i", i=str(args[0]))
            if row and row[0].state == "selesai" and row[0].delivered_package_id is None:
                c.fail(f"{what} job {job_id}: request {args[0]} is still not delivered")
                return False
            return True
        c.info.setdefault("other_unfinished_jobs", []).append(f"{func}{args}")
        return True

    def check_open_requests(self) -> Check:
        c = Check("open_requests")
        from ckanext.statrequest.lib import access

        wf = self.wf
        holders = {p: bool(self.sql(
            "SELECT 1 FROM statrequest_position WHERE position = :p AND revoked_at IS NULL "
            "LIMIT 1", p=p)) for p in wf.positions}
        routed = defaultdict(list)
        if self.requests:
            for row in self.sql("SELECT request_id, organization_id FROM statrequest_request_org "
                                "WHERE routed AND request_id = ANY(:ids)",
                                ids=list(self.requests)):
                routed[row.request_id].append(row.organization_id)
        for rid, r in self.requests.items():
            state = wf.states.get(r.state)
            if state is None or state.final:
                continue
            c.checked += 1
            if state.holder == wf.assignee_position and not r.assignee_id:
                c.fail(f"{r.tracking_number}: in {r.state} without an assigned staff member")
            elif state.holder == access.OPD and not routed[rid]:
                c.fail(f"{r.tracking_number}: waits for an OPD but is routed to none")
            elif state.holder in wf.positions and not holders[state.holder]:
                c.fail(f"{r.tracking_number}: nobody holds {state.holder}")
        c.info["by_state"] = dict(Counter(r.state for r in self.requests.values()))
        # the open requests' search table and their words (kept by triggers, migrations 0019
        # and 0020) hold exactly the open requests with their current columns
        from ckanext.statrequest.model.request import OPEN_SEARCH_DRIFT

        drift = self.sql(OPEN_SEARCH_DRIFT)[0]
        c.info["open_search_drift"] = {"open": drift.open, "words": drift.words}
        if drift.open or drift.words:
            c.fail(f"open requests' search tables differ from the requests: {drift.open} rows "
                   f"of the open requests, {drift.words} of their words")
        return c


def run(ini: str, run_config: Path, acks: Path | None, sink: Path | None,
        faults: Path | None = None) -> dict[str, Any]:
    from ckan.cli import load_config
    from ckan.config.middleware import make_app

    conf = load_config(ini)
    app = make_app(conf)
    with app._wsgi_app.test_request_context():
        import ckantoolkit as tk

        checker = Checker(json.loads(run_config.read_text()), load_jsonl(acks), load_jsonl(sink))
        checker.faults = json.loads(faults.read_text()) if faults and faults.exists() else []
        checks = [
            checker.check_submissions(), checker.check_files(), checker.check_event_chains(),
            checker.check_transitions_once(), checker.check_letters(),
            checker.check_notifications(), checker.check_delivery(),
            checker.check_jobs(tk.config.get("ckan.redis.url"), tk.config.get("ckan.site_id")),
            checker.check_open_requests(),
        ]
        checker.session.remove()
    mail = next(c for c in checks if c.name == "notifications").info
    extra = [] if "duplicates_at_smtp_server" not in mail else [
        f"duplicates at the SMTP server: {mail['duplicates_at_smtp_server']} (resent after "
        f"their sender was killed between the message's end and the commit: "
        f"{len(mail['resent_after_sender_killed'])})"]
    return {"ok": all(c.ok for c in checks), "checks": [c.as_dict() for c in checks],
            "lines": [c.line() for c in checks]
            + [f"  - {v}" for c in checks for v in c.violations[:SHOW]] + extra}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ini", required=True)
    parser.add_argument("--run-config", type=Path, required=True)
    parser.add_argument("--acks", type=Path)
    parser.add_argument("--sink", type=Path)
    parser.add_argument("--faults", type=Path, help="the faults the run injected (JSON list)")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    result = run(args.ini, args.run_config, args.acks, args.sink, args.faults)
    if args.out:
        args.out.write_text(json.dumps(result, indent=2, default=str))
    print("\n".join(result["lines"]))
    print("INVARIANTS " + ("HOLD" if result["ok"] else "VIOLATED"))
    sys.exit(0 if result["ok"] else 1)


if __name__ == "__main__":
    main()
