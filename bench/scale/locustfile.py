"""The mixed load of a regency portal, for Locust (headless): see bench/scale/README.md.

    SCALE_CONFIG=run-config.json SCALE_OUT=dir locust -f bench/scale/locustfile.py --headless ...

Who does what (every call is a real HTTP request to gunicorn, authenticated with the
account's CKAN API token in the Authorization header):

- Requester: submits requests with three files (multipart), follows them (the API, the public
  tracking lookup, the "my requests" page), and fixes or withdraws those sent back to them.
- Official (one account per position; the Secretary and the Section Head have two sessions
  each, so that two people sometimes act on the same request at once): reads the inbox page
  and the inbox API, opens CKAN's own dataset page and package_show as the baseline, and
  works through the requests of this load that wait for them, firing the workflow's
  transitions (dispositions, assignment, routing, checks, paraf and the final signature).
- OPD admin: reads the inbox, uploads result files (multipart) or answers "data not available".
- Verifier: downloads signed letters and checks them on the verification API and page, and
  checks a tampered copy (which must not pass).

What the clients were told is recorded for the invariant checker (`acks.jsonl`: every
acknowledged submission with the SHA-256 of its files, every acknowledged transition, every
refusal "already handled by someone else", every failed call that might have written
something) and every HTTP call is logged with its start time (`samples.csv`), so latencies and
errors can be split by phase (before, during and after the faults).
"""
from __future__ import annotations

import csv
import itertools
import json
import os
import random
import threading
import time
import uuid
from pathlib import Path
from typing import Any

from locust import HttpUser, between, events, task

from bench.scale.files import pdf_bytes, png_bytes, sha

CONFIG = json.loads(Path(os.environ["SCALE_CONFIG"]).read_text())
OUT = Path(os.environ["SCALE_OUT"])
PROFILE = json.loads(os.environ.get("SCALE_PROFILE") or "{}")
MARKER = "skalauji"  # in every title of this load: the work queues search for it
PASSPHRASE = "rahasia-uji"  # the test PKI's (documents.testpki)
TIMEOUT = 90

OUT.mkdir(parents=True, exist_ok=True)
_acks = (OUT / "acks.jsonl").open("a", encoding="utf-8")
_samples = (OUT / "samples.csv").open("a", encoding="utf-8", newline="")
_writer = csv.writer(_samples)
_lock = threading.Lock()


def ack(kind: str, **data: Any) -> None:
    with _lock:
        _acks.write(json.dumps({"type": kind, "t": time.time(), **data}) + "\n")
        _acks.flush()


@events.request.add_listener
def _sample(request_type: str, name: str, response_time: float, response_length: int,
            exception: Any = None, start_time: float | None = None, **kw: Any) -> None:
    start = start_time if start_time is not None else time.time() - response_time / 1000
    status = ""
    response = kw.get("response")
    if response is not None:
        status = str(getattr(response, "status_code", "") or "")
    error = "" if exception is None else type(exception).__name__
    with _lock:
        _writer.writerow([f"{start:.3f}", name, f"{response_time:.1f}",
                          0 if exception else 1, status, error])
        _samples.flush()  # the orchestrator starts its clock at the first line


@events.quitting.add_listener
def _close(**_kw: Any) -> None:
    with _lock:
        _acks.flush()
        _samples.flush()


# --- accounts ------------------------------------------------------------------------------

_counters: dict[str, itertools.count] = {}


def _next(kind: str) -> int:
    with _lock:
        return next(_counters.setdefault(kind, itertools.count()))


OFFICIALS = PROFILE.get("officials") or [
    "sekretaris", "sekretaris", "kadis", "kabid", "kasi", "kasi", "staf1", "staf2", "staf3", "staf4"]
OPD_COUNT = int(PROFILE.get("opd_count", 3))
OPDS = CONFIG["opd"][:OPD_COUNT]  # only these are routed to: each has an active admin session
STAFF_NAMES = [n for n, p in CONFIG["staff"].items() if p == "staf"]
WAIT = PROFILE.get("wait") or [1.0, 3.0]


class Portal(HttpUser):
    abstract = True
    wait_time = between(*WAIT)
    account = ""

    def auth(self, name: str | None = None) -> dict[str, str]:
        return {"Authorization": CONFIG["tokens"][name or self.account]}

    # --- API helpers ---------------------------------------------------------------------

    def api_get(self, action: str, name: str, params: dict[str, Any], as_user: str | None = None
                ) -> Any:
        with self.client.get(f"/api/3/action/{action}", params=params, name=name,
                             headers=self.auth(as_user), timeout=TIMEOUT,
                             catch_response=True) as r:
            return self._result(r)

    def _result(self, r: Any, conflict_ok: bool = False) -> Any:
        try:
            body = r.json()
        except ValueError:
            r.failure(f"HTTP {r.status_code}: not JSON")
            return None
        if body.get("success"):
            r.success()
            return body["result"]
        error = body.get("error") or {}
        if conflict_ok and "version" in error:
            r.success()  # "already handled by someone else": the expected end of a race
            return {"__conflict__": True}
        r.failure(f"HTTP {r.status_code}: {json.dumps(error)[:300]}")
        return None

    def page(self, path: str, name: str, as_user: str | None = None,
             anonymous: bool = False) -> bytes | None:
        headers = {} if anonymous else self.auth(as_user)
        with self.client.get(path, name=name, headers=headers, timeout=TIMEOUT,
                             catch_response=True) as r:
            if r.status_code != 200:
                r.failure(f"HTTP {r.status_code}")
                return None
            r.success()
            return r.content

    def fire(self, item: dict[str, Any], transition: str, files: dict[str, tuple] | None = None,
             **inputs: Any) -> Any:
        """POST statrequest_transition with the version the list showed; record the outcome."""
        payload = {"id": item["id"], "transition": transition, "version": item["version"],
                   **inputs}
        name = f"transition: {transition}"
        started = time.time()
        ack("transition_start", id=item["id"], transition=transition, version=item["version"],
            user=self.account)
        try:
            if files:
                form = {k: (json.dumps(v) if isinstance(v, list) else str(v))
                        for k, v in payload.items()}
                ctx = self.client.post("/api/3/action/statrequest_transition", data=form,
                                       files=files, name=name, headers=self.auth(),
                                       timeout=TIMEOUT, catch_response=True)
            else:
                ctx = self.client.post("/api/3/action/statrequest_transition", json=payload,
                                       name=name, headers=self.auth(), timeout=TIMEOUT,
                                       catch_response=True)
            with ctx as r:
                result = self._result(r, conflict_ok=True)
                status = r.status_code
        except Exception as exc:  # connection reset by a killed web process, ...
            ack("transition_error", id=item["id"], transition=transition,
                version=item["version"], user=self.account, error=type(exc).__name__,
                started=started)
            return None
        file_hashes = {k: sha(v[1]) for k, v in (files or {}).items()}
        if result is None:
            ack("transition_error", id=item["id"], transition=transition,
                version=item["version"], user=self.account, status=status, started=started)
        elif result.get("__conflict__"):
            ack("conflict", id=item["id"], transition=transition, version=item["version"],
                user=self.account)
        else:
            ack("transition", id=item["id"], transition=transition, version=item["version"],
                new_version=result.get("version"), state=result.get("state"),
                user=self.account, files=file_hashes, started=started)
        return result

    def work_queue(self, **extra: Any) -> list[dict[str, Any]]:
        """Requests of this load waiting for me, oldest first (the real inbox query)."""
        result = self.api_get("statrequest_list", "work queue (API)", {
            "waiting_for_me": "true", "q": MARKER, "sort": "oldest", "limit": 10, **extra})
        return (result or {}).get("results", [])


class Requester(Portal):
    fixed_count = int(PROFILE.get("requesters", 6))

    def on_start(self) -> None:
        requesters = CONFIG["requesters"]
        self.account = requesters[_next("requester") % len(requesters)]
        self.mine: list[dict[str, str]] = []

    @task(3)
    def submit(self) -> None:
        ref = uuid.uuid4().hex
        files = {
            "identity_document": ("ktp.png", png_bytes(ref), "image/png"),
            "request_letter": ("surat-permohonan.pdf", pdf_bytes(f"Surat {ref}"),
                               "application/pdf"),
            "data_form": ("formulir.pdf", pdf_bytes(f"Formulir {ref}"), "application/pdf"),
        }
        n = random.randint(1, 9999)
        form = {
            "requester_name": f"Pemohon Uji {self.account}", "identity_type": "nik",
            "identity_number": f"6104{random.randrange(10 ** 12):012d}",
            "institution": "Universitas Tanjungpura", "category": "masyarakat_umum",
            "email": f"{self.account}@scale.test", "phone": "0812-3456-7890",
            "address": "Jl. Merdeka 1, Ketapang",
            "title": f"Data {MARKER} posyandu aktif per desa {n}",
            "description": f"Jumlah posyandu aktif per desa, dirinci per bulan. ref:{ref}",
            "period": "2025", "breakdown": "Desa", "data_format": "CSV",
            "purpose": "Penelitian skripsi", "consent_personal_data": "true",
        }
        hashes = {k: sha(v[1]) for k, v in files.items()}
        started = time.time()
        ack("submit_start", ref=ref, user=self.account, files=hashes)
        try:
            with self.client.post("/api/3/action/statrequest_create", data=form, files=files,
                                  name="submit (API, 3 files)", headers=self.auth(),
                                  timeout=TIMEOUT, catch_response=True) as r:
                result = self._result(r)
                status = r.status_code
        except Exception as exc:
            ack("submit_error", ref=ref, user=self.account, error=type(exc).__name__,
                files=hashes, started=started)
            return
        if result is None:
            ack("submit_error", ref=ref, user=self.account, status=status, files=hashes,
                started=started)
            return
        ack("submit", ref=ref, id=result["id"], tracking=result["tracking_number"],
            user=self.account, files=hashes, started=started)
        self.mine.append({"id": result["id"], "tracking": result["tracking_number"]})

    @task(3)
    def track(self) -> None:
        if not self.mine:
            return
        mine = random.choice(self.mine[-20:])
        self.api_get("statrequest_show", "track: show (API)", {"id": mine["id"]})
        # POST: the email must not travel in a URL (statrequest_track refuses GET)
        with self.client.post("/api/3/action/statrequest_track", json={
                "tracking_number": mine["tracking"], "email": f"{self.account}@scale.test"},
                name="track: public lookup (API)", timeout=TIMEOUT, catch_response=True) as r:
            self._result(r)

    @task(1)
    def my_requests(self) -> None:
        self.page("/permintaan-data/saya", "my requests page")

    @task(2)
    def fix(self) -> None:
        for item in self.work_queue(state="perlu_perbaikan")[:1]:
            if random.random() < 0.8:
                letter = pdf_bytes(f"Surat perbaikan {uuid.uuid4().hex}")
                self.fire(item, "kirim_ulang", files={
                    "request_letter": ("surat-perbaikan.pdf", letter, "application/pdf")},
                    note="Surat sudah ditandatangani.")
            else:
                self.fire(item, "batalkan", note="Tidak jadi.")


def _choose(weights: list[tuple[int, str]]) -> str:
    return random.choices([n for _w, n in weights], weights=[w for w, _n in weights])[0]


class Official(Portal):
    fixed_count = len(OFFICIALS)

    def on_start(self) -> None:
        self.account = OFFICIALS[_next("official") % len(OFFICIALS)]

    @task(3)
    def inbox_page(self) -> None:
        self.page("/permintaan-data/kotak-masuk", "inbox page")

    @task(2)
    def inbox_api(self) -> None:
        self.api_get("statrequest_list", "inbox (API)", {"waiting_for_me": "true", "limit": 20})

    @task(3)
    def dataset_page(self) -> None:
        self.page(f"/dataset/{CONFIG['dataset']}", "dataset page (CKAN)")

    @task(2)
    def package_show(self) -> None:
        self.api_get("package_show", "package_show (CKAN API)", {"id": CONFIG["dataset"]})

    @task(1)
    def request_page(self) -> None:
        items = self.work_queue()
        if items:
            self.page(f"/permintaan-data/{items[0]['tracking_number']}", "request page")

    @task(6)
    def work(self) -> None:
        items = self.work_queue()
        if not items:
            return
        item = random.choice(items[:3])
        state = item["state"]
        if state == "diajukan":
            t = _choose([(85, "teruskan_ke_kadis"), (10, "minta_perbaikan"), (5, "tolak")])
            notes = {"teruskan_ke_kadis": "Berkas lengkap.",
                     "minta_perbaikan": "Surat permohonan belum ditandatangani.",
                     "tolak": "Data termasuk informasi yang dikecualikan."}
            # a refusal names its ground (UU 14/2008 Pasal 17 huruf j)
            self.fire(item, t, note=notes[t], **({"reason": "pasal17j"} if t == "tolak" else {}))
        elif state == "disposisi_kadis":
            self.fire(item, "disposisi_ke_kabid", instruction="Mohon ditindaklanjuti.")
        elif state == "telaah_kabid":
            self.fire(item, "disposisi_ke_kasi", instruction="Koordinasikan dengan OPD.")
        elif state == "disposisi_kasi":
            self.fire(item, "tugaskan_staf", assignee=random.choice(STAFF_NAMES),
                      instruction="Tolong siapkan datanya.")
        elif state == "tindak_lanjut_staf":
            self.fire(item, "teruskan_ke_opd", opd=[random.choice(OPDS)["id"]])
        elif state == "pemeriksaan_staf":
            if random.random() < 0.9:
                self.fire(item, "hasil_sesuai", note="Data sesuai permintaan.",
                          outcome=random.choice(["dipenuhi"] * 4 + ["dipenuhi_sebagian"]))
            else:
                self.fire(item, "hasil_tidak_sesuai", note="Belum dipilah per desa.")
        elif state == "pemeriksaan_kasi":
            if random.random() < 0.05 and item.get("assignee"):
                self.fire(item, "kembalikan_ke_staf", note="Periksa lagi angkanya.")
            else:
                self.fire(item, "teruskan_ke_kabid")
        elif state in ("paraf_kabid", "paraf_sekretaris", "ttd_kadis"):
            back = {"paraf_kabid": "kembalikan_oleh_kabid",
                    "paraf_sekretaris": "kembalikan_oleh_sekretaris",
                    "ttd_kadis": "kembalikan_oleh_kadis"}[state]
            sign = {"paraf_kabid": "paraf_kabid", "paraf_sekretaris": "paraf_sekretaris",
                    "ttd_kadis": "tandatangani"}[state]
            if random.random() < 0.04:
                self.fire(item, back, note="Perbaiki redaksi surat.")
            else:
                self.fire(item, sign, passphrase=PASSPHRASE)


class OpdAdmin(Portal):
    fixed_count = len(OPDS)

    def on_start(self) -> None:
        self.account = OPDS[_next("opd") % len(OPDS)]["admin"]

    @task(2)
    def inbox_page(self) -> None:
        self.page("/permintaan-data/kotak-masuk", "inbox page")

    @task(1)
    def dataset_page(self) -> None:
        self.page(f"/dataset/{CONFIG['dataset']}", "dataset page (CKAN)")

    @task(4)
    def work(self) -> None:
        for item in self.work_queue()[:1]:
            if random.random() < 0.85:
                rows = "\n".join(f"Desa {i},{random.randint(1, 40)}" for i in range(1, 30))
                data = f"desa,jumlah_posyandu\n{rows}\n# {item['id']} {uuid.uuid4().hex}\n"
                self.fire(item, "unggah_hasil", files={
                    "result": ("posyandu-per-desa.csv", data.encode(), "text/csv")},
                    note="Data terlampir.")
            else:
                self.fire(item, "data_tidak_tersedia", note="Data belum pernah dikumpulkan.")


class Verifier(Portal):
    """Checks signed letters as a citizen would: on the API and on the QR code's page."""

    fixed_count = int(PROFILE.get("verifiers", 1))

    def on_start(self) -> None:
        self.account = "kadis"  # who may download every signed letter
        self.citizen = CONFIG["requesters"][-1]

    @task
    def verify(self) -> None:
        found = self.api_get("statrequest_list", "verify: find signed letters (API)", {
            "state": "selesai", "q": MARKER, "sort": "newest", "limit": 50})
        results = (found or {}).get("results") or []
        if not results:
            return
        item = random.choice(results)
        shown = self.api_get("statrequest_show", "verify: show request (API)", {"id": item["id"]})
        letter = next((a for a in (shown or {}).get("attachments", [])
                       if a["kind"] == "signed_reply"), None)
        if letter is None:
            return
        pdf = self.page(f"/permintaan-data/berkas/{letter['id']}", "download signed letter")
        if pdf is None:
            return
        verdict = self._verify(pdf, "verify: upload letter (API)", expect_valid=True,
                               request_id=item["id"])
        if verdict and verdict.get("letter"):
            code = verdict["letter"]["verification_url"].rstrip("/").rsplit("/", 1)[-1]
            self.page(f"/permintaan-data/verifikasi/{code}", "verification page", anonymous=True)
        tampered = bytearray(pdf)
        middle = len(tampered) // 2
        tampered[middle:middle + 8] = b"XXXXXXXX"
        self._verify(bytes(tampered), "verify: tampered copy (API)", expect_valid=False,
                     request_id=item["id"])

    def _verify(self, pdf: bytes, name: str, expect_valid: bool, request_id: str
                ) -> dict[str, Any] | None:
        with self.client.post("/api/3/action/statrequest_verify",
                              files={"upload": ("surat.pdf", pdf, "application/pdf")},
                              name=name, headers=self.auth(self.citizen), timeout=TIMEOUT,
                              catch_response=True) as r:
            result = self._result(r)
            if result is None:
                return None
            if (result.get("status") == "valid") != expect_valid:
                r.failure(f"verdict {result.get('status')!r}")
                ack("verify_wrong", id=request_id, expected_valid=expect_valid,
                    status=result.get("status"), reasons=result.get("reasons"))
            else:
                ack("verify_ok", id=request_id, expected_valid=expect_valid,
                    status=result.get("status"))
            return result
