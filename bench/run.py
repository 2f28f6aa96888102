"""Benchmark of the request lists, show and transition against CKAN's own package_show.

Run from the repository root (services up: `bash dev/services.sh start`):

    .venv/bin/python bench/run.py --sizes 1000,100000

For each size it empties the statrequest tables of `ckan_bench`, seeds that many requests in
bulk (COPY, ~11 events each, states spread over the workflow, two years of history), then
calls the real actions as real users (auth included) and prints p50/p95, the ratio to a
`package_show` of a 5-resource dataset measured in the same rounds, and the ratio of the
largest size to the smallest. Results go to `bench/results/` (git-ignored). See README.md.
"""
from __future__ import annotations

import argparse
import datetime as dt
import io
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from ckanext.statrequest.documents.samples import pdf_bytes

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
INI = HERE / "bench.ini"
RESULTS = HERE / "results"

PASSWORD = "Bench-Satudata-2026"
DATASET = "bench-5-resources"
QUERY_WORD = "stunting"
SEARCH_CATEGORY = "masyarakat_umum"

OPDS = [
    ("dinas-kesehatan", "Dinas Kesehatan"),
    ("dinas-pendidikan", "Dinas Pendidikan dan Kebudayaan"),
    ("dinas-pertanian", "Dinas Pertanian"),
    ("dinas-sosial", "Dinas Sosial"),
    ("dinas-perhubungan", "Dinas Perhubungan"),
    ("dinas-pupr", "Dinas Pekerjaan Umum dan Penataan Ruang"),
    ("disdukcapil", "Dinas Kependudukan dan Pencatatan Sipil"),
    ("bappeda", "Badan Perencanaan Pembangunan Daerah"),
]
# (user, position, capacity in Diskominfo)
STAFF = [
    ("sekretaris", "sekretaris", "editor"),
    ("kadis", "kepala_dinas", "admin"),
    ("kabid", "kepala_bidang", "editor"),
    ("kasi", "kepala_seksi", "editor"),
    ("staf1", "staf", "member"),
    ("staf2", "staf", "member"),
    ("staf3", "staf", "member"),
    ("staf4", "staf", "member"),
]
REQUESTERS = [f"pemohon{n:02d}" for n in range(1, 31)]

TOPICS = [
    ("stunting", "Prevalensi balita stunting"), ("puskesmas", "Tenaga kesehatan per puskesmas"),
    ("imunisasi", "Cakupan imunisasi dasar lengkap"), ("sekolah", "Jumlah sekolah menurut jenjang"),
    ("guru", "Jumlah guru menurut status"), ("padi", "Produksi padi sawah"),
    ("jagung", "Luas panen jagung"), ("sawit", "Produksi kelapa sawit rakyat"),
    ("penduduk", "Jumlah penduduk menurut kelompok umur"), ("kemiskinan", "Jumlah penduduk miskin"),
    ("jalan", "Panjang jalan kabupaten menurut kondisi"), ("angkutan", "Armada angkutan umum"),
    ("nelayan", "Rumah tangga nelayan"), ("ternak", "Populasi sapi dan kambing"),
    ("wisatawan", "Kunjungan wisatawan"), ("umkm", "Jumlah UMKM binaan"),
    ("bansos", "Penerima bantuan sosial"), ("air", "Cakupan layanan air minum"),
    ("listrik", "Rasio elektrifikasi desa"), ("internet", "Desa dengan akses internet"),
    ("kematian", "Angka kematian ibu dan bayi"), ("gizi", "Status gizi balita"),
    ("pengangguran", "Tingkat pengangguran terbuka"), ("harga", "Harga bahan pokok"),
    ("banjir", "Kejadian bencana banjir"), ("hutan", "Luas tutupan hutan"),
    ("perkawinan", "Perkawinan tercatat"), ("ktp", "Kepemilikan KTP elektronik"),
    ("koperasi", "Jumlah koperasi aktif"), ("pajak", "Realisasi pajak daerah"),
]
KECAMATAN = [
    "Delta Pawan", "Benua Kayong", "Matan Hilir Utara", "Matan Hilir Selatan", "Muara Pawan",
    "Kendawangan", "Manis Mata", "Marau", "Air Upas", "Singkup", "Jelai Hulu", "Tumbang Titi",
    "Pemahan", "Sungai Melayu Rayak", "Nanga Tayap", "Sandai", "Hulu Sungai", "Sungai Laur",
    "Simpang Hulu", "Simpang Dua",
]
CATEGORIES = [("masyarakat_umum", 50), ("instansi_pemerintah", 30), ("dunia_usaha", 20)]
PURPOSES = ["Penelitian skripsi", "Penyusunan rencana kerja", "Kajian kelayakan usaha",
            "Bahan laporan instansi", "Tesis magister", "Liputan media"]

# Paths through the default workflow, by transition name; the seeder checks each one
# against the loaded workflow, so a changed YAML fails loudly instead of seeding nonsense.
HAPPY = ["ajukan", "teruskan_ke_kadis", "disposisi_ke_kabid", "disposisi_ke_kasi",
         "tugaskan_staf", "teruskan_ke_opd", "unggah_hasil", "hasil_sesuai",
         "teruskan_ke_kabid", "paraf_kabid", "paraf_sekretaris", "tandatangani"]
CLOSED_PATHS = [  # (weight, path)
    (62, HAPPY),
    (12, ["ajukan", "minta_perbaikan", "kirim_ulang", *HAPPY[1:]]),
    (10, [*HAPPY[:7], "hasil_tidak_sesuai", "unggah_hasil", *HAPPY[7:]]),
    (4, [*HAPPY[:6], "data_tidak_tersedia", *HAPPY[7:]]),
    (6, ["ajukan", "tolak", "paraf_kabid", "paraf_sekretaris", "tandatangani"]),
    (6, ["ajukan", "minta_perbaikan", "batalkan"]),
]
OPEN_PATHS = [(10 if k in (1, 2) else 6, HAPPY[:k]) for k in range(1, 12)] + [
    (8, ["ajukan", "minta_perbaikan"]),
]
INSTRUCTIONS = {
    "disposisi_ke_kabid": "Mohon ditindaklanjuti sesuai ketentuan.",
    "disposisi_ke_kasi": "Koordinasikan dengan perangkat daerah terkait.",
    "tugaskan_staf": "Tolong siapkan datanya.",
    "minta_perbaikan": "Surat permohonan belum ditandatangani.",
    "tolak": "Data yang diminta termasuk informasi yang dikecualikan.",
    "hasil_sesuai": "Data sesuai permintaan.",
    "hasil_tidak_sesuai": "Data belum dipilah per kecamatan.",
    "data_tidak_tersedia": "Data belum pernah dikumpulkan.",
}


# --- the CKAN app ---------------------------------------------------------------------------

def superuser_url(database: str | None = None) -> str:
    """The bench database's URL as the superuser `postgres` (loopback, as dev/services.sh
    sets it up), or another database's of the same server."""
    url = os.environ["CKAN_SQLALCHEMY_URL"].replace("ckan:ckan@", "postgres@", 1)
    return url if database is None else url.rsplit("/", 1)[0] + "/" + database


def create_database() -> None:
    """Create STATREQUEST_BENCH_DB if it does not exist yet (dev/services.sh creates only
    `ckan_bench`), as the superuser, owned by the `ckan` role."""
    import psycopg2
    from psycopg2 import sql

    name = os.environ["CKAN_SQLALCHEMY_URL"].rsplit("/", 1)[1]
    conn = psycopg2.connect(superuser_url("postgres"))
    try:
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
            if cur.fetchone() is None:
                print(f"creating database {name} ...", flush=True)
                cur.execute(sql.SQL("CREATE DATABASE {} OWNER ckan ENCODING 'UTF8'")
                            .format(sql.Identifier(name)))
    finally:
        conn.close()


def migrate() -> None:
    create_database()
    ckan = Path(sys.executable).parent / "ckan"
    out = subprocess.run([str(ckan), "-c", str(INI), "db", "upgrade"],
                         capture_output=True, text=True, check=False)
    if out.returncode != 0:
        sys.exit(f"ckan db upgrade failed:\n{out.stdout}\n{out.stderr}")


def use_port_variables() -> None:
    """The documented STATREQUEST_*_PORT variables reach bench.ini (and the `ckan` commands
    started from here) through CKAN's own environment overrides."""
    pg = os.environ.get("STATREQUEST_PG_PORT", "5432")
    solr = os.environ.get("STATREQUEST_SOLR_PORT", "8983")
    redis = os.environ.get("STATREQUEST_REDIS_PORT", "6379")
    # STATREQUEST_BENCH_DB: another database, so that two runs never share (and empty) one
    db = os.environ.get("STATREQUEST_BENCH_DB", "ckan_bench")
    os.environ["CKAN_SQLALCHEMY_URL"] = f"postgresql://ckan:ckan@127.0.0.1:{pg}/{db}"
    os.environ["CKAN_SOLR_URL"] = f"http://127.0.0.1:{solr}/solr/ckan_test"
    os.environ["CKAN_REDIS_URL"] = f"redis://127.0.0.1:{redis}/2"


def load_app() -> Any:
    from ckan.cli import load_config
    from ckan.config.middleware import make_app

    conf = load_config(str(INI))
    # bench.ini says %(here)s/../.run/...; CKAN's file storage refuses paths with "..".
    for key in list(conf):
        if key == "ckan.storage_path" or (key.startswith("ckan.files.storage.")
                                          and key.endswith(".path")):
            conf[key] = os.path.normpath(conf[key])
    return make_app(conf)


def site_context() -> dict[str, Any]:
    import ckantoolkit as tk

    site_user = tk.get_action("get_site_user")({"ignore_auth": True}, {})["name"]
    return {"user": site_user, "ignore_auth": True}


def act(user: str, action: str, **data: Any) -> Any:
    """An action as a real user: auth functions run, nothing is ignored."""
    import ckantoolkit as tk

    return tk.get_action(action)({"user": user}, data)


# --- people, organisations, the reference dataset (once, idempotent) ------------------------

def setup() -> dict[str, Any]:
    import ckan.model as model
    import ckantoolkit as tk
    from sqlalchemy import select

    from ckanext.statrequest.model import Position

    def call(action: str, **data: Any) -> Any:
        return tk.get_action(action)(site_context(), data)

    def user(name: str, fullname: str) -> str:
        existing = model.User.by_name(name)
        if existing is not None:
            return existing.id
        return call("user_create", name=name, fullname=fullname, email=f"{name}@bench.test",
                    password=PASSWORD)["id"]

    def org(name: str, title: str) -> str:
        existing = model.Group.by_name(name)
        if existing is not None:
            return existing.id
        return call("organization_create", name=name, title=title)["id"]

    def member(org_id: str, user_id: str, username: str, capacity: str) -> None:
        row = model.Session.scalars(select(model.Member).where(
            model.Member.group_id == org_id, model.Member.table_name == "user",
            model.Member.table_id == user_id, model.Member.state == "active")).first()
        if row is None or row.capacity != capacity:
            call("organization_member_create", id=org_id, username=username, role=capacity)

    people: dict[str, Any] = {"positions": {}, "opd": {}, "requesters": {}}
    diskominfo = org("diskominfo", "Dinas Komunikasi dan Informatika")
    for name, position, capacity in STAFF:
        uid = user(name, name.title())
        member(diskominfo, uid, name, capacity)
        held = model.Session.scalars(select(Position).where(
            Position.user_id == uid, Position.position == position,
            Position.revoked_at.is_(None))).first()
        if held is None:
            call("statrequest_position_assign", position=position, user=name,
                 valid_from="2020-01-01")
        people["positions"].setdefault(position, []).append(uid)
        people[name] = uid
    for slug, title in OPDS:
        oid = org(slug, title)
        admin = f"admin-{slug}"
        aid = user(admin, f"Admin {title}")
        member(oid, aid, admin, "admin")
        people["opd"][oid] = {"name": slug, "admin": admin, "admin_id": aid}
    for name in REQUESTERS:
        people["requesters"][user(name, f"Pemohon {name[-2:]}")] = name

    if model.Package.by_name(DATASET) is None:
        formats = [("CSV", "csv"), ("XLSX", "xlsx"), ("PDF", "pdf"), ("JSON", "json"), ("API", "")]
        call("package_create", name=DATASET, title="Jumlah Tenaga Kesehatan per Puskesmas",
             owner_org="dinas-kesehatan", notes="Dataset acuan benchmark: lima sumber daya.",
             license_id="cc-by", tags=[{"name": t} for t in ("kesehatan", "puskesmas", "nakes")],
             extras=[{"key": "frekuensi", "value": "tahunan"}, {"key": "satuan", "value": "orang"}],
             resources=[{"name": f"Sumber {i + 1} ({fmt})", "format": fmt,
                         "url": f"https://data.example.test/nakes-{i + 1}.{ext or 'json'}",
                         "description": f"Sumber daya nomor {i + 1}."}
                        for i, (fmt, ext) in enumerate(formats)])
    model.Session.remove()
    return people


# --- bulk seeding ---------------------------------------------------------------------------

TABLES = ("statrequest_identity_access", "statrequest_attachment", "statrequest_event",
          "statrequest_opd_task", "statrequest_request_org", "statrequest_request_dataset",
          "statrequest_open_request_word", "statrequest_open_request", "statrequest_request",
          "statrequest_counter", "statrequest_stats_request", "statrequest_stats_wait",
          "statrequest_stats_summary", "statrequest_stats_state")
# Above this many requests, the first BLOCK are seeded in Python and the rest are copies of
# them made in SQL (INSERT … SELECT, new ids, tracking number + ".k"): 1M in minutes.
BLOCK = int(os.environ.get("BENCH_BLOCK", "100000"))
# Requests waiting for the Secretary (diajukan), overdue, on "stunting" by the public, at
# every size: the measured inbox and search have a full first page (20) even at 1k.
FULL_PAGE = 40
REQUEST_COLUMNS = (
    "id", "tracking_number", "requester_id", "requester_name", "identity_type",
    "identity_number", "identity_number_hash", "institution", "category", "email", "phone",
    "address", "title", "description", "period", "breakdown", "data_format", "purpose", "state", "outcome",
    "assignee_id", "received_at", "sla_due_at", "sla_paused_at", "sla_pauses", "closed_at",
    "version", "created_at", "updated_at")
EVENT_COLUMNS = ("request_id", "actor_id", "actor_role", "acting", "transition", "from_state",
                 "to_state", "note", "visibility", "data", "version", "created_at")
ORG_COLUMNS = ("request_id", "organization_id", "routed", "routed_at")
ATTACHMENT_COLUMNS = ("id", "request_id", "kind", "file_id", "name", "size", "media_type",
                      "sha256", "uploaded_by", "organization_id", "created_at")


def _copy_value(value: Any) -> str:
    if value is None:
        return "\\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, (dict, list)):
        value = json.dumps(value, ensure_ascii=False)
    return (str(value).replace("\\", "\\\\").replace("\t", "\\t")
            .replace("\n", "\\n").replace("\r", "\\r"))


class Copier:
    """Rows buffered per table and written with COPY (text format), in dependency order."""

    ORDER = ("statrequest_request", "statrequest_request_org", "statrequest_event",
             "statrequest_attachment")
    COLUMNS = {"statrequest_request": REQUEST_COLUMNS, "statrequest_request_org": ORG_COLUMNS,
               "statrequest_event": EVENT_COLUMNS, "statrequest_attachment": ATTACHMENT_COLUMNS}

    def __init__(self, cursor: Any) -> None:
        self.cursor = cursor
        self.buffers = {t: io.StringIO() for t in self.ORDER}
        self.counts = dict.fromkeys(self.ORDER, 0)

    def add(self, table: str, row: Iterable[Any]) -> None:
        self.buffers[table].write("\t".join(_copy_value(v) for v in row) + "\n")
        self.counts[table] += 1

    def flush(self) -> None:
        for table in self.ORDER:
            buf = self.buffers[table]
            if buf.tell():
                buf.seek(0)
                self.cursor.copy_expert(
                    f"COPY {table} ({', '.join(self.COLUMNS[table])}) FROM STDIN", buf)
            self.buffers[table] = io.StringIO()


def _weighted(rnd: random.Random, items: list[tuple[int, Any]]) -> Any:
    return rnd.choices([i for _, i in items], weights=[w for w, _ in items])[0]


def _check_paths(wf: Any) -> None:
    for _, path in CLOSED_PATHS + OPEN_PATHS:
        state = None
        for name in path:
            if name == "ajukan":
                state = wf.initial
                continue
            t = wf.transitions.get(name)
            if t is None or state not in t.sources:
                raise SystemExit(f"seed path {path} does not fit the workflow at {name!r}")
            state = t.target


def seed(size: int, people: dict[str, Any]) -> dict[str, Any]:
    """Empty the statrequest tables and fill them with `size` consistent requests."""
    import ckan.model as model

    from ckanext.statrequest import settings
    from ckanext.statrequest.core.numbering import format_tracking_number

    wf, calendar = settings.workflow(), settings.calendar()
    _check_paths(wf)
    tz = ZoneInfo(settings.get("timezone"))
    sla_days = settings.sla_days()
    rnd = random.Random(size)
    now = dt.datetime.now(dt.timezone.utc)
    span = dt.timedelta(days=730).total_seconds()
    block = min(size, BLOCK)
    created = sorted(now - dt.timedelta(seconds=rnd.uniform(600, span)) for _ in range(block))
    ages = [n for n, c in enumerate(created) if 15 <= (now - c).days <= 120]
    forced = set(rnd.sample(ages, min(FULL_PAGE, len(ages))))
    holders = {p: ids for p, ids in people["positions"].items()}
    opd_ids = list(people["opd"])
    requester_ids = list(people["requesters"])
    started = time.perf_counter()

    engine = model.Session.get_bind()
    model.Session.remove()
    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        cur.execute(f"TRUNCATE {', '.join(TABLES)} RESTART IDENTITY CASCADE")
        copier = Copier(cur)
        seq_by_year: dict[int, int] = {}
        stats = {"open": 0, "events": 0}
        for n, created_at in enumerate(created):
            year = created_at.astimezone(tz).year
            seq_by_year[year] = seq_by_year.get(year, 0) + 1
            _seed_one(copier, rnd, wf, calendar, sla_days, now, created_at,
                      format_tracking_number(year, seq_by_year[year]), holders, opd_ids,
                      requester_ids, people, stats, force=n in forced)
            if n % 5000 == 4999:
                copier.flush()
        copier.flush()
        for year, value in seq_by_year.items():
            cur.execute("INSERT INTO statrequest_counter (name, year, value) VALUES "
                        "('tracking', %s, %s)", (year, value))
        raw.commit()
        python_seconds = time.perf_counter() - started
        copies = _replicate(cur, size, block)
        seed_opd_tasks(cur)
        raw.commit()
        loaded = time.perf_counter() - started
        cur.close()
        dbapi = raw.driver_connection  # VACUUM needs autocommit, on the driver's connection
        dbapi.autocommit = True
        try:
            with dbapi.cursor() as vac:
                for table in TABLES:
                    vac.execute(f"VACUUM (ANALYZE) {table}")
        finally:
            dbapi.autocommit = False
    finally:
        raw.close()
    factor = size // block
    result = {"requests": size, "events": copier.counts["statrequest_event"] * factor,
              "attachments": copier.counts["statrequest_attachment"] * factor,
              "org_links": copier.counts["statrequest_request_org"] * factor,
              "open": stats["open"] * factor, "python_seconds": round(python_seconds, 1),
              "sql_copies": copies, "load_seconds": round(loaded, 1),
              "total_seconds": round(time.perf_counter() - started, 1)}
    result.update(_derive_stats(size, block))
    return result


def seed_opd_tasks(cur: Any) -> int:
    """One task per routed OPD, as the routing step makes them (#12): asked while the request
    waits for the OPD, answered once it moved on. Without them every routed request would
    count as one "routed before tasks existed", which no real database has."""
    from ckanext.statrequest import settings
    from ckanext.statrequest.lib.access import OPD

    waiting = list(settings.workflow().states_waiting_for([OPD]))
    cur.execute("""
        INSERT INTO statrequest_opd_task (request_id, organization_id, status, asked_at, due,
                                          answered_at, closed_reason)
        SELECT o.request_id, o.organization_id,
               CASE WHEN r.state = ANY(%(waiting)s) THEN 'asked' ELSE 'answered' END,
               COALESCE(o.routed_at, r.created_at), r.sla_due_at,
               CASE WHEN r.state = ANY(%(waiting)s) THEN NULL ELSE r.updated_at END, ''
        FROM statrequest_request_org o JOIN statrequest_request r ON r.id = o.request_id
        WHERE o.routed ON CONFLICT DO NOTHING""", {"waiting": waiting})
    return cur.rowcount


def _replicate(cur: Any, size: int, block: int) -> int:
    """Make `size` requests out of the `block` seeded ones: copies k = 1, 2, … in SQL, with
    new ids and tracking numbers, the same events, OPD links and attachment rows."""
    if size % block:
        raise SystemExit(f"--sizes: {size:,} is not a multiple of {block:,}")
    copies = size // block - 1
    if not copies:
        return 0

    def select(columns: tuple[str, ...], alias: str, k: int, own_id: bool) -> str:
        out = []
        for c in columns:
            if c == "id" and own_id:
                out.append("m.new")
            elif c == "id":
                out.append(f"md5({alias}.id || ':{k}')::uuid::text")
            elif c == "request_id":
                out.append("m.new")
            elif c == "tracking_number":
                out.append(f"{alias}.tracking_number || '.{k}'")
            else:
                out.append(f"{alias}.{c}")
        return ", ".join(out)

    cur.execute("CREATE TEMP TABLE bench_base ON COMMIT DROP AS "
                "SELECT id FROM statrequest_request")
    for k in range(1, copies + 1):
        cur.execute("CREATE TEMP TABLE bench_map ON COMMIT DROP AS "  # noqa: S608
                    f"SELECT id AS old, md5(id || ':{k}')::uuid::text AS new FROM bench_base")
        for table, columns, alias, own in (
                ("statrequest_request", REQUEST_COLUMNS, "r", True),
                ("statrequest_request_org", ORG_COLUMNS, "o", False),
                ("statrequest_event", EVENT_COLUMNS, "e", False),
                ("statrequest_attachment", ATTACHMENT_COLUMNS, "a", False)):
            key = "id" if own else "request_id"
            cur.execute(f"INSERT INTO {table} ({', '.join(columns)}) "  # noqa: S608
                        f"SELECT {select(columns, alias, k, own)} FROM {table} {alias} "
                        f"JOIN bench_map m ON m.old = {alias}.{key}")
        cur.execute("DROP TABLE bench_map")
        print(f"  copy {k}/{copies} made", flush=True)
    return copies


def _derive_stats(size: int, block: int) -> dict[str, Any]:
    """The per-request statistics figures of the seeded block, made by lib/stats_sql as its
    refresh() does (the Python functions of lib/stats per request), timed; the SQL copies get
    their template's rows (same events at the same times: the same figures). Then the rules'
    fingerprint and the last event are recorded as refresh() records them."""
    import ckan.model as model
    import sqlalchemy as sa

    from ckanext.statrequest import settings
    from ckanext.statrequest.lib import stats, stats_sql

    calendar = settings.calendar()
    rules = stats.rules_for(settings.workflow(), settings.sla_days())
    session = model.Session
    session.remove()
    started = time.perf_counter()
    base = "SELECT id FROM statrequest_request WHERE tracking_number NOT LIKE '%.%'"
    ids = list(session.scalars(sa.text(base + " ORDER BY id")))
    last = session.scalar(sa.text("SELECT max(id) FROM statrequest_event")) or 0
    stats_sql._recompute(session, ids, last, calendar, rules)
    session.commit()
    refresh_seconds = time.perf_counter() - started
    t0 = time.perf_counter()
    for k in range(1, size // block):
        for table, columns in (
                ("statrequest_stats_request", "last_event_id, state, finished_at, days, on_time,"
                                              " extension_days, outcome, reason, opd"),
                ("statrequest_stats_wait", "state, days")):
            session.execute(sa.text(
                f"INSERT INTO {table} SELECT md5(s.request_id || :k)::uuid::text, "  # noqa: S608
                f"{', '.join('s.' + c.strip() for c in columns.split(','))} FROM {table} s "
                f"WHERE s.request_id IN ({base})"), {"k": f":{k}"})
    fp = stats_sql.fingerprint(calendar, rules, stats_sql._objection_steps())
    session.execute(sa.text("INSERT INTO statrequest_stats_state (key, value) VALUES "
                            "('fingerprint', :fp), ('watermark', :last)"),
                    {"fp": fp, "last": str(last)})
    session.commit()
    copy_seconds = time.perf_counter() - t0
    session.remove()
    return {"stats_refresh_seconds": round(refresh_seconds, 1),
            "stats_refresh_per_request_ms": round(1000 * refresh_seconds / min(size, block), 3),
            "stats_copy_seconds": round(copy_seconds, 1)}


def _seed_one(copier: Copier, rnd: random.Random, wf: Any, calendar: Any, sla_days: int,
              now: dt.datetime, created_at: dt.datetime, tracking: str,
              holders: dict[str, list[str]], opd_ids: list[str], requester_ids: list[str],
              people: dict[str, Any], stats: dict[str, int], force: bool = False) -> None:
    age = (now - created_at).days
    # recent requests are mostly still open; a small backlog of old ones is stuck (overdue)
    open_ = force or rnd.random() < (0.9 if age < 10 else 0.3 if age < 30 else 0.02)
    path = ["ajukan"] if force else _weighted(rnd, OPEN_PATHS if open_ else CLOSED_PATHS)
    stats["open"] += open_
    rid = str(uuid.UUID(int=rnd.getrandbits(128), version=4))
    requester = rnd.choice(requester_ids)
    topic, phrase = TOPICS[0] if force else rnd.choice(TOPICS)
    kec = rnd.choice(KECAMATAN)
    data_year = rnd.randint(2019, 2025)
    category = SEARCH_CATEGORY if force else _weighted(rnd, [(w, c) for c, w in CATEGORIES])

    # event times: a few hours to a working day apart, all before now
    gaps = [0.0] + [rnd.uniform(0.1, 1.4) for _ in path[1:]]
    room = (now - created_at).total_seconds() / 86400 - 0.01
    scale = min(1.0, room / sum(gaps)) if sum(gaps) else 1.0
    times, t = [], created_at
    for gap in gaps:
        t = t + dt.timedelta(days=gap * scale)
        times.append(t)

    state, outcome, assignee, paused_at, pauses = None, None, None, None, []
    routed: list[str] = []
    suggested = rnd.choice(opd_ids) if rnd.random() < 0.5 else None
    acting_opd = None
    events = []
    for version, (name, at) in enumerate(zip(path, times, strict=True), 1):
        data: dict[str, Any] = {}
        if name == "ajukan":
            to_state, role, visibility = wf.initial, "pemohon", "public"
        else:
            tr = wf.transitions[name]
            to_state, role, visibility = tr.target, tr.actor, tr.visibility
            if tr.outcome:
                outcome = tr.outcome
        if role == "pemohon":
            actor = requester
        elif role == "opd":
            acting_opd = acting_opd or rnd.choice(routed)
            actor = people["opd"][acting_opd]["admin_id"]
        elif role == "staf":
            actor = assignee
        else:
            actor = rnd.choice(holders[role])
        if name == "tugaskan_staf":
            assignee = rnd.choice(holders["staf"])
            data["assignee"] = assignee
        elif name == "teruskan_ke_opd":
            routed = [suggested or rnd.choice(opd_ids)]
            if rnd.random() < 0.1:
                routed = list({*routed, rnd.choice(opd_ids)})
            data["opd"] = routed
        elif name == "hasil_sesuai":
            outcome = rnd.choice(["dipenuhi"] * 8 + ["dipenuhi_sebagian"] * 2)
            data["outcome"] = outcome
        elif name == "minta_perbaikan":
            paused_at = at
        elif name == "kirim_ulang":
            pauses.append([paused_at.isoformat(), at.isoformat()])
            paused_at = None
        events.append((rid, actor, role, False, name, state, to_state,
                       INSTRUCTIONS.get(name, ""), visibility, data, version, at))
        state = to_state
    final = wf.is_final(state)
    due = calendar.due_date(created_at, sla_days,
                            [(dt.datetime.fromisoformat(a), dt.datetime.fromisoformat(b))
                             for a, b in pauses])
    from ckanext.statrequest.model import crypto

    nik = f"6104{rnd.randrange(10**12):012d}"  # stored as the portal stores it: encrypted
    copier.add("statrequest_request", (
        rid, tracking, requester, f"Pemohon {people['requesters'][requester][-2:]}", "nik",
        crypto.encrypt(nik), crypto.lookup_hash(nik),
        "" if category == "masyarakat_umum" else "Universitas Tanjungpura", category,
        f"{people['requesters'][requester]}@bench.test", "0812-3456-7890",
        f"Jl. Merdeka {rnd.randint(1, 200)}, {kec}",
        f"{phrase} Kecamatan {kec} {data_year}",
        f"Mohon data {phrase.lower()} ({topic}) di Kecamatan {kec} tahun {data_year}, "
        "dirinci per desa.", str(data_year), "Desa", "CSV", rnd.choice(PURPOSES),
        state, outcome, assignee, created_at, due, paused_at, pauses,
        times[-1] if final else None, len(events), created_at, times[-1]))
    for oid in {*routed, *([suggested] if suggested else [])}:
        is_routed = oid in routed
        routed_at = next((e[11] for e in events if e[4] == "teruskan_ke_opd"), None)
        copier.add("statrequest_request_org",
                   (rid, oid, is_routed, routed_at if is_routed else None))
    for event in events:
        copier.add("statrequest_event", event)
    # the files' rows only: the bytes are not stored (file_id NULL, as for a removed file)
    for kind, fname, media, size in (("identity_document", "ktp.png", "image/png", 180_000),
                                     ("request_letter", "surat.pdf", "application/pdf", 95_000),
                                     ("data_form", "formulir.pdf", "application/pdf", 60_000)):
        copier.add("statrequest_attachment", (
            str(uuid.UUID(int=rnd.getrandbits(128), version=4)), rid, kind, None, fname, size,
            media, f"{rnd.getrandbits(256):064x}", requester, None, created_at))
    for e in events:
        if e[4] == "unggah_hasil":
            copier.add("statrequest_attachment", (
                str(uuid.UUID(int=rnd.getrandbits(128), version=4)), rid, "result", None,
                "hasil.csv", 4_200, "text/csv", f"{rnd.getrandbits(256):064x}", e[1],
                acting_opd, e[11]))
    stats["events"] += len(events)


# --- fresh requests for the transition benchmark --------------------------------------------



def _png() -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 30, 30)).save(buf, format="PNG")
    return buf.getvalue()


def submit(requester: str, n: int) -> dict[str, Any]:
    from werkzeug.datastructures import FileStorage

    def upload(name: str, data: bytes) -> FileStorage:
        return FileStorage(stream=io.BytesIO(data), filename=name)

    return act(requester, "statrequest_create",
               requester_name="Dewi Lestari", identity_type="nik",
               identity_number="6104012345678901", institution="Universitas Tanjungpura",
               category="masyarakat_umum", email="dewi@bench.test", phone="0812-3456-7890",
               address="Jl. Merdeka 1, Ketapang", title=f"Jumlah posyandu aktif {n}",
               description="Data posyandu aktif per desa.", period="2025", breakdown="Desa",
               data_format="CSV", purpose="Penelitian skripsi", consent_personal_data=True,
               identity_document=upload("ktp.png", _png()),
               request_letter=upload("surat.pdf", pdf_bytes("Surat permohonan data")),
               data_form=upload("formulir.pdf", pdf_bytes("Formulir")))


# --- measuring ------------------------------------------------------------------------------

def _clock(fn: Callable[[], Any], out: dict[str, Any] | None = None) -> float:
    """Milliseconds of one call, started like a web request (empty session)."""
    import ckan.model as model

    model.Session.remove()
    t0 = time.perf_counter()
    result = fn()
    elapsed = time.perf_counter() - t0
    model.Session.remove()
    if out is not None and isinstance(result, dict) and "results" in result:
        out.update(rows=len(result["results"]), count=result["count"])
    return elapsed * 1000


def _stats(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)

    def pct(p: float) -> float:
        k = (len(ordered) - 1) * p
        lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
        return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)

    return {"n": len(ordered), "p50": round(pct(0.5), 3), "p95": round(pct(0.95), 3),
            "mean": round(statistics.fmean(ordered), 3), "min": round(ordered[0], 3),
            "max": round(ordered[-1], 3)}


def read_operations(people: dict[str, Any], show_ids: list[str]) -> dict[str, Callable[..., Any]]:
    opd_admin = people["opd"][next(iter(people["opd"]))]["admin"]
    return {
        "package_show": lambda i: act("sekretaris", "package_show", id=DATASET),
        "inbox": lambda i: act("sekretaris", "statrequest_list", waiting_for_me=True, limit=20),
        "search": lambda i: act("sekretaris", "statrequest_list", q=QUERY_WORD,
                                category=SEARCH_CATEGORY, sla="overdue", limit=20),
        "show": lambda i: act("sekretaris", "statrequest_show", id=show_ids[i % len(show_ids)]),
        # the figures of the statistics page (all time) and of the public transparency page
        "stats": lambda i: act("sekretaris", "statrequest_stats"),
        "transparency": lambda i: act(REQUESTERS[0], "statrequest_stats_public"),
        # extras, not in the issue's goal but worth watching
        "search_q": lambda i: act("sekretaris", "statrequest_list", q=QUERY_WORD, limit=20),
        "inbox_opd": lambda i: act(opd_admin, "statrequest_list", waiting_for_me=True, limit=20),
        "list_all": lambda i: act("sekretaris", "statrequest_list", limit=20),
        "event_list": lambda i: act("sekretaris", "statrequest_event_list",
                                    id=show_ids[i % len(show_ids)]),
    }


def prewarm() -> float:
    """Read the whole bench database into the OS cache; seconds taken.

    As on a server that has been serving it for a while: right after the services start,
    the 11 GB of a 1M database are on disk, and a `show` of a request not read before waits
    for the disk (the yardstick's few rows are read once and stay). pg_prewarm needs the
    superuser (postgres on loopback, as dev/services.sh uses it); without it, nothing is read
    ahead and the result says so (0).
    """
    import psycopg2

    url = superuser_url()
    started = time.perf_counter()
    try:
        with psycopg2.connect(url) as conn, conn.cursor() as cur:
            cur.execute("CREATE EXTENSION IF NOT EXISTS pg_prewarm")
            cur.execute("SELECT sum(pg_prewarm(c.oid, 'read')) FROM pg_class c "
                        "WHERE c.relkind IN ('r', 'i', 't') AND c.relpersistence = 'p' "
                        "AND c.relnamespace <> 'pg_catalog'::regnamespace "
                        "AND c.relnamespace <> 'information_schema'::regnamespace")
    except psycopg2.Error as exc:
        print(f"  not pre-read (no superuser connection): {exc}".strip(), flush=True)
        return 0.0
    return round(time.perf_counter() - started, 1)


def measure(size: int, people: dict[str, Any], iterations: int, warmup: int) -> dict[str, Any]:
    import ckan.model as model
    from ckan.lib import search
    from sqlalchemy import text

    # the yardstick as after package_create: its dataset in the search index, whose cached
    # validated dict package_show reads. The bench databases share one Solr core (and the
    # tests empty it), so without this package_show is 17 ms in one database and 29 ms in
    # another, and the ratios compared across sizes measure that, not our calls
    search.rebuild(model.Package.by_name(DATASET).id)
    search.commit()
    rnd = random.Random(size + 1)
    ids = [r[0] for r in model.Session.execute(text("SELECT id FROM statrequest_request"))]
    show_ids = rnd.sample(ids, min(len(ids), iterations + warmup))
    model.Session.remove()
    ops = read_operations(people, show_ids)
    samples: dict[str, list[float]] = {name: [] for name in ops}
    # the statistics' figures are kept per period until the event log changes: the first
    # reading after seeding computes them (aggregates over every request), timed here
    cold = {"stats_cold": _clock(lambda: ops["stats"](0))}
    pages: dict[str, dict[str, Any]] = {name: {} for name in ops}
    # round-robin: every operation sees the same background load
    for i in range(warmup + iterations):
        for name, fn in ops.items():
            ms = _clock(lambda fn=fn, i=i: fn(i), pages[name] if i == warmup else None)
            if i >= warmup:
                samples[name].append(ms)

    # the write path: fresh requests in `diajukan`, forwarded by the Secretary
    requesters = list(people["requesters"].values())
    fresh, create_ms = [], []
    for i in range(warmup + iterations):
        holder: dict[str, Any] = {}
        ms = _clock(lambda i=i, holder=holder: holder.update(
            submit(requesters[i % len(requesters)], i)))
        fresh.append((holder["id"], holder["version"]))
        if i >= warmup:
            create_ms.append(ms)
    samples["create"] = create_ms
    samples["transition"] = []
    samples["package_show_w"] = []
    for i, (rid, version) in enumerate(fresh):
        ms = _clock(lambda rid=rid, version=version: act(
            "sekretaris", "statrequest_transition", id=rid, transition="teruskan_ke_kadis",
            version=version, note="Lengkap."))
        pkg = _clock(lambda: ops["package_show"](0))
        if i >= warmup:
            samples["transition"].append(ms)
            samples["package_show_w"].append(pkg)
    # route to 3 OPD at once (#12, one task per OPD): the same requests walked on to the
    # assigned staff member, then routed; against the package_show timed alongside
    samples["route3"] = []
    three = list(people["opd"])[:3]
    for i, (rid, _version) in enumerate(fresh):
        shown: dict[str, Any] = {"version": _version + 1}
        for user, step, extra in (
                ("kadis", "disposisi_ke_kabid", {"instruction": "Mohon ditindaklanjuti."}),
                ("kabid", "disposisi_ke_kasi", {"instruction": "Koordinasikan."}),
                ("kasi", "tugaskan_staf", {"assignee": "staf1", "instruction": "Siapkan."})):
            shown = act(user, "statrequest_transition", id=rid, transition=step,
                        version=shown["version"], **extra)
        ms = _clock(lambda rid=rid, version=shown["version"]: act(
            "staf1", "statrequest_transition", id=rid, transition="teruskan_ke_opd",
            version=version, opd=three))
        if i >= warmup:
            samples["route3"].append(ms)
    samples["stats_after_event"], pages["stats_after_event"] = stats_after_event(
        people, iterations, warmup)
    out = {name: _stats(values) | pages.get(name, {}) for name, values in samples.items()}
    out["stats_cold"] = {"ms": round(cold["stats_cold"], 1)}
    return out


def stats_after_event(people: dict[str, Any], iterations: int, warmup: int
                      ) -> tuple[list[float], dict[str, Any]]:
    """What a reader of the statistics page sees right after an event (#16, round 9): a new
    request forwarded by the Secretary (untimed: two events), then `statrequest_stats` (all
    time) timed. `pending`: readings served the kept figures while a job recomputes them."""
    requesters = list(people["requesters"].values())
    timed, pending = [], 0
    for i in range(warmup + iterations):
        made = submit(requesters[i % len(requesters)], 10_000 + i)
        act("sekretaris", "statrequest_transition", id=made["id"],
            transition="teruskan_ke_kadis", version=made["version"], note="Lengkap.")
        holder: dict[str, Any] = {}
        ms = _clock(lambda holder=holder: holder.update(act("sekretaris", "statrequest_stats")))
        if i >= warmup:
            timed.append(ms)
            pending += bool(holder.get("pending"))
    return timed, {"pending": pending}


# --- EXPLAIN ANALYZE of the list queries ----------------------------------------------------

def explain(people: dict[str, Any]) -> dict[str, Any]:
    """Capture the SQL of each list call and EXPLAIN ANALYZE its statements on the requests."""
    import ckan.model as model
    from sqlalchemy import event

    engine = model.Session.get_bind()
    lists = {k: v for k, v in read_operations(people, ["-"]).items()
             if k in ("inbox", "search", "search_q", "inbox_opd", "list_all")}
    out: dict[str, Any] = {}
    for name, fn in lists.items():
        captured: list[tuple[str, Any]] = []

        def grab(conn, cursor, statement, parameters, context, executemany, captured=captured):
            if "FROM statrequest_request" in statement and \
                    statement.lstrip().startswith(("SELECT", "WITH")):
                captured.append((statement, parameters))

        event.listen(engine, "before_cursor_execute", grab)
        try:
            model.Session.remove()
            fn(0)
        finally:
            event.remove(engine, "before_cursor_execute", grab)
            model.Session.remove()
        raw = engine.raw_connection()
        try:
            cur = raw.cursor()
            plans = []
            for statement, parameters in captured:
                sql = cur.mogrify(statement, parameters).decode()
                cur.execute("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + sql)
                plan = cur.fetchone()[0][0]
                cur.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
                plans.append({"sql": sql, "summary": _plan_summary(plan),
                              "text": "\n".join(r[0] for r in cur.fetchall())})
            raw.rollback()
        finally:
            raw.close()
        out[name] = plans
    return out


def _plan_summary(plan: dict[str, Any]) -> dict[str, Any]:
    nodes: list[str] = []
    seq_scans: list[str] = []

    def walk(node: dict[str, Any]) -> None:
        label = node["Node Type"]
        if "Index Name" in node:
            label += f" {node['Index Name']}"
        elif "Relation Name" in node:
            label += f" {node['Relation Name']}"
        nodes.append(label)
        if node["Node Type"] == "Seq Scan" and node.get("Relation Name", "").startswith("statrequest"):
            seq_scans.append(node["Relation Name"])
        for child in node.get("Plans", []):
            walk(child)

    walk(plan["Plan"])
    return {"execution_ms": plan["Execution Time"], "planning_ms": plan["Planning Time"],
            "rows": plan["Plan"].get("Actual Rows"),
            "shared_hit": plan["Plan"].get("Shared Hit Blocks"),
            "shared_read": plan["Plan"].get("Shared Read Blocks"),
            "nodes": nodes, "seq_scans": seq_scans}


# --- report ---------------------------------------------------------------------------------

GOAL_LISTS = ("inbox", "search")
ORDER = ["package_show", "inbox", "search", "show", "stats", "transparency", "stats_after_event",
         "transition",
         "route3",
         "inbox_opd", "search_q",
         "list_all", "event_list", "create"]


EXTRAS = ("inbox_opd", "search_q", "list_all", "event_list", "create")


def _ratio_label(small: int, large: int) -> str:
    def short(n: int) -> str:
        return f"{n // 1000}k" if n >= 1000 and n % 1000 == 0 else str(n)

    return f"{short(large)}/{short(small)}"


def _growth(results: dict[int, dict[str, Any]], op: str, small: int, large: int,
            normalised: bool = False) -> float:
    def value(size: int) -> float:
        t = results[size]["timings"]
        base = t["package_show_w" if op in ("transition", "create", "route3")
                 else "package_show"]["p50"]
        return t[op]["p50"] / (base if normalised else 1.0)

    return value(large) / value(small)


def report(results: dict[int, dict[str, Any]]) -> list[str]:
    sizes = sorted(results)
    small, large = sizes[0], sizes[-1]
    head = f"{'operation':<15}" + "".join(
        f"{f'{s:,} p50':>13}{'p95':>8}{'×pkg':>6}{'rows':>11}" for s in sizes)
    if len(sizes) > 1:
        head += f"{_ratio_label(small, large):>9}{'norm':>7}"
    lines = [head, "-" * len(head)]
    for op in ORDER:
        row = f"{op + (' *' if op in EXTRAS else ''):<15}"
        for s in sizes:
            m = results[s]["timings"][op]
            base = results[s]["timings"]["package_show_w" if op in ("transition", "create", "route3")
                                        else "package_show"]["p50"]
            rows = f"{m['rows']}/{m['count']:,}" if "rows" in m else ""
            row += f"{m['p50']:>13.2f}{m['p95']:>8.2f}{m['p50'] / base:>6.2f}{rows:>11}"
        if len(sizes) > 1:
            row += f"{_growth(results, op, small, large):>9.2f}"
            row += f"{_growth(results, op, small, large, normalised=True):>7.2f}"
        lines.append(row)
    lines += [
        "ms per call; ×pkg = p50 / p50 of package_show (5 resources) timed in the same rounds",
        "(transition and create: against the package_show timed alongside them); rows = page",
        "rows / total count of a list; * = extra, not part of the goal; norm = the growth of",
        "×pkg, i.e. the size ratio with the machine's load at each size taken out.",
        "",
    ]
    if len(sizes) > 1:
        for op in GOAL_LISTS:
            raw = _growth(results, op, small, large)
            norm = _growth(results, op, small, large, normalised=True)
            ok = raw < 1.5 and norm < 1.5
            lines.append(f"goal {op}: {_ratio_label(small, large)} p50 ratio {raw:.2f} "
                         f"(normalised {norm:.2f}) ({'ok' if ok else 'OVER'}, goal < 1.5)")
    for s in sizes:
        t = results[s]["timings"]
        ratio = t["inbox"]["p50"] / t["package_show"]["p50"]
        lines.append(f"goal inbox at {s:,}: {ratio:.2f} × package_show "
                     f"({'ok' if ratio <= 1 else 'OVER'}, goal <= 1)")
    lines += ["", "#16 (ratio = p50 / package_show p50 of the same rounds; growth = ratio at N /"
                  " ratio at the smallest size):"]
    for s in sizes:
        t = results[s]["timings"]

        def ratio(op: str, t: dict[str, Any] = t) -> float:
            return t[op]["p50"] / t["package_show"]["p50"]

        parts = []
        for op in ("inbox", "search", "show"):
            growth = ratio(op) / _ratio(results, small, op)
            ok = ratio(op) <= 0.5 and growth <= 1.2
            parts.append(f"{op} {ratio(op):.2f}× growth {growth:.2f} ({'ok' if ok else 'OVER'})")
        for op in ("stats", "transparency", "stats_after_event"):
            parts.append(f"{op} {ratio(op):.2f}× ({'ok' if ratio(op) <= 2 else 'OVER'})")
        cold = t.get("stats_cold", {}).get("ms")
        lines.append(f"  {s:>9,}: " + "; ".join(parts) + f"; stats first reading {cold} ms")
    lines.append("  goals: inbox, search, show <= 0.5× and growth <= 1.2; stats and "
                 "transparency <= 2×")
    return lines


def _ratio(results: dict[int, dict[str, Any]], size: int, op: str) -> float:
    t = results[size]["timings"]
    return t[op]["p50"] / t["package_show"]["p50"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,100000",
                        help="comma-separated request counts (default 1000,100000)")
    parser.add_argument("--iterations", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--no-explain", action="store_true", help="skip EXPLAIN ANALYZE")
    # a 1M seed takes long: seed once (--seed-only), measure later runs on it (--reuse)
    parser.add_argument("--seed-only", action="store_true", help="seed each size, measure nothing")
    parser.add_argument("--reuse", action="store_true",
                        help="keep the seeded requests if the database holds this size already")
    args = parser.parse_args()
    use_port_variables()
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    os.chdir(ROOT)
    started = time.perf_counter()

    print("migrating ckan_bench ...", flush=True)
    migrate()
    app = load_app()
    results: dict[int, dict[str, Any]] = {}
    with app._wsgi_app.test_request_context():
        people = setup()
        for size in sizes:
            seeded = _seeded(size) if args.reuse else None
            if seeded is None:
                print(f"seeding {size:,} requests ...", flush=True)
                seeded = seed(size, people)
                _mark_seeded(seeded)
            else:
                print(f"reusing the {size:,} seeded requests", flush=True)
                _forget_summaries()  # the statistics' first reading is timed cold again
                _add_missing_opd_tasks()
            print(f"  {seeded}", flush=True)
            if args.seed_only:
                continue
            print(f"measuring at {size:,} ({args.warmup} warm-up + {args.iterations} rounds) ...",
                  flush=True)
            warmed = prewarm()
            print(f"  database read into memory in {warmed} s", flush=True)
            seeded["prewarm_seconds"] = warmed
            load_before = os.getloadavg()
            timings = measure(size, people, args.iterations, args.warmup)
            load = [round(x, 2) for x in (*load_before, *os.getloadavg())]
            print(f"  load average before/after: {load[:3]} / {load[3:]}", flush=True)
            plans = {} if args.no_explain else explain(people)
            results[size] = {"seed": seeded, "timings": timings, "explain": plans,
                             "load_average": load}
            for name, stmts in plans.items():
                for p in stmts:
                    s = p["summary"]
                    print(f"  EXPLAIN {name:<10} {s['execution_ms']:>8.2f} ms  "
                          f"seq scans: {s['seq_scans'] or 'none'}  "
                          f"{' > '.join(dict.fromkeys(s['nodes']))}", flush=True)
        _clear_jobs()

    if not results:
        print(f"seeded ({time.perf_counter() - started:.0f} s)")
        return
    lines = report(results)
    print()
    print("\n".join(lines))
    RESULTS.mkdir(exist_ok=True)
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    path = RESULTS / f"bench-{stamp}.json"
    path.write_text(json.dumps({
        "when": dt.datetime.now(dt.timezone.utc).isoformat(),
        "machine": {"python": platform.python_version(), "platform": platform.platform(),
                    "cpus": os.cpu_count()},
        "iterations": args.iterations, "warmup": args.warmup,
        "results": {str(k): v for k, v in results.items()},
        "table": lines, "wall_seconds": round(time.perf_counter() - started, 1),
    }, indent=2, ensure_ascii=False))
    print(f"\nresults: {os.path.relpath(path)}  ({time.perf_counter() - started:.0f} s)")


SEED_KEY = "bench_seed"  # a key of statrequest_stats_state that lib/stats_sql never reads


def _seeded(size: int) -> dict[str, Any] | None:
    """The seed record if the database holds `size` seeded requests (the later runs' own
    fresh requests aside), else None."""
    import ckan.model as model
    from sqlalchemy import text

    value = model.Session.execute(text("SELECT value FROM statrequest_stats_state WHERE key = :k"),
                                  {"k": SEED_KEY}).scalar()
    model.Session.remove()
    record = json.loads(value) if value else None
    return record if record and record.get("requests") == size else None


def _forget_summaries() -> None:
    import ckan.model as model
    from sqlalchemy import text

    model.Session.execute(text("DELETE FROM statrequest_stats_summary"))
    model.Session.commit()
    model.Session.remove()


def _add_missing_opd_tasks() -> None:
    """A database seeded before the seed made OPD tasks gets them (seed_opd_tasks)."""
    import ckan.model as model

    raw = model.Session.get_bind().raw_connection()
    try:
        cur = raw.cursor()
        cur.execute("SELECT EXISTS (SELECT 1 FROM statrequest_opd_task)")
        if not cur.fetchone()[0]:
            print(f"  OPD tasks added to the seed: {seed_opd_tasks(cur):,}", flush=True)
            cur.execute("ANALYZE statrequest_opd_task")
        raw.commit()
    finally:
        raw.close()


def _mark_seeded(seeded: dict[str, Any]) -> None:
    import ckan.model as model
    from sqlalchemy import text

    model.Session.execute(text("INSERT INTO statrequest_stats_state (key, value) VALUES (:k, :v)"),
                          {"k": SEED_KEY, "v": json.dumps(seeded)})
    model.Session.commit()
    model.Session.remove()


def _clear_jobs() -> None:
    """Notifications queued by the transitions go to the bench's own Redis db; drop them."""
    try:
        from ckan.lib import jobs

        for queue in jobs.get_all_queues():
            queue.empty()
    except Exception as exc:  # noqa: BLE001 - a bench must still print its numbers
        print(f"(could not clear the job queues: {exc})")


if __name__ == "__main__":
    main()
