"""Seed a scale run: people, organisations, the reference dataset, N historical requests and
API tokens for the load generator.

    python -m bench.scale.setup_data --ini scale.ini --requests 100000 --out run-config.json

Reuses bench/run.py (`setup`: Diskominfo with one account per position and four staff, eight
OPD with an admin each, thirty requesters and a 5-resource dataset; `seed`: bulk COPY of
consistent historical requests with their event chains). Then creates one API token per
account the load uses (as the site user, like an administrator would) and writes everything
the load and the checker need to `--out`.

`--prelude N` then submits N requests through the real actions (as the requesters, with
files) and moves them through the real transitions (as the officials, with the letter drafted,
initialled and so on) to late steps of the workflow, so that even a short load signs letters,
delivers data and checks signatures. What each call returned is written to `--acks`, like the
load generator does for its own calls, so the checker holds these requests to the same rules.
"""
from __future__ import annotations

import argparse
import datetime as dt
import io
import json
import time
import uuid
from pathlib import Path
from typing import Any

from bench import run as bench_run
from bench.scale.files import pdf_bytes, png_bytes, sha


def tokens_for(names: list[str]) -> dict[str, str]:
    import ckantoolkit as tk

    context = bench_run.site_context()
    out = {}
    for name in names:
        out[name] = tk.get_action("api_token_create")(
            dict(context), {"user": name, "name": f"scale-{int(time.time())}"})["token"]
    return out


def floors() -> dict[str, int]:
    """Highest ids before the load: what is above was made by the load."""
    import ckan.model as model
    from sqlalchemy import text

    def one(sql: str) -> int:
        return int(model.Session.execute(text(sql)).scalar() or 0)

    result = {"event_id": one("SELECT max(id) FROM statrequest_event")}
    try:
        result["notification_id"] = one("SELECT max(id) FROM statrequest_notification")
    except Exception:  # the outbox table does not exist (older migration set)
        model.Session.rollback()
        result["notification_id"] = 0
    model.Session.remove()
    return result


MARKER = "skalauji"
PASSPHRASE = "rahasia-uji"
# Where the prelude's requests stop (cycled): steps where the load takes over.
PRELUDE_TARGETS = ["ttd_kadis", "paraf_sekretaris", "ttd_kadis", "paraf_kabid",
                   "pemeriksaan_staf", "menunggu_opd", "ttd_kadis", "pemeriksaan_kasi"]
PRELUDE_PATH = [  # (transition, who, inputs); "assignee"/"opd" filled in per request
    ("teruskan_ke_kadis", "sekretaris", {"note": "Berkas lengkap."}),
    ("disposisi_ke_kabid", "kadis", {"instruction": "Mohon ditindaklanjuti."}),
    ("disposisi_ke_kasi", "kabid", {"instruction": "Koordinasikan dengan OPD."}),
    ("tugaskan_staf", "kasi", {"instruction": "Tolong siapkan datanya."}),
    ("teruskan_ke_opd", "@assignee", {}),
    ("unggah_hasil", "@opd", {"note": "Data terlampir."}),
    ("hasil_sesuai", "@assignee", {"note": "Data sesuai permintaan.", "outcome": "dipenuhi"}),
    ("teruskan_ke_kabid", "kasi", {}),
    ("paraf_kabid", "kabid", {"passphrase": PASSPHRASE}),
    ("paraf_sekretaris", "sekretaris", {"passphrase": PASSPHRASE}),
]


def prelude(n: int, config: dict[str, Any], opd_count: int, acks: Path) -> dict[str, int]:
    import ckantoolkit as tk
    from werkzeug.datastructures import FileStorage

    def act(user: str, action: str, **data: Any) -> Any:
        return tk.get_action(action)({"user": user}, data)

    def upload(name: str, data: bytes) -> FileStorage:
        return FileStorage(stream=io.BytesIO(data), filename=name)

    staff = [name for name, position in config["staff"].items() if position == "staf"]
    opds = config["opd"][:opd_count]
    reached: dict[str, int] = {}
    with acks.open("a", encoding="utf-8") as out:
        def ack(kind: str, **data: Any) -> None:
            out.write(json.dumps({"type": kind, "t": time.time(), "source": "prelude", **data})
                      + "\n")

        for i in range(n):
            requester = config["requesters"][i % len(config["requesters"])]
            ref = uuid.uuid4().hex
            files = {"identity_document": ("ktp.png", png_bytes(ref)),
                     "request_letter": ("surat.pdf", pdf_bytes(f"Surat {ref}")),
                     "data_form": ("formulir.pdf", pdf_bytes(f"Formulir {ref}"))}
            created = act(requester, "statrequest_create",
                          requester_name=f"Pemohon Uji {requester}", identity_type="nik",
                          identity_number="6104012345678901", institution="Untan",
                          category="masyarakat_umum", email=f"{requester}@scale.test",
                          phone="0812-3456-7890", address="Jl. Merdeka 1, Ketapang",
                          title=f"Data {MARKER} jumlah posyandu prelude {i}",
                          description=f"Jumlah posyandu aktif per desa. ref:{ref}",
                          period="2025", breakdown="Desa", data_format="CSV",
                          purpose="Penelitian", consent_personal_data=True,
                          **{k: upload(name, data) for k, (name, data) in files.items()})
            ack("submit", ref=ref, id=created["id"], tracking=created["tracking_number"],
                user=requester, files={k: sha(data) for k, (_n, data) in files.items()})
            target = PRELUDE_TARGETS[i % len(PRELUDE_TARGETS)]
            assignee, opd = staff[i % len(staff)], opds[i % len(opds)]
            version, state = created["version"], created["state"]
            for transition, who, inputs in PRELUDE_PATH:
                if state == target:
                    break
                user = {"@assignee": assignee, "@opd": opd["admin"]}.get(who, who)
                data = dict(inputs)
                hashes = {}
                if transition == "tugaskan_staf":
                    data["assignee"] = assignee
                elif transition == "teruskan_ke_opd":
                    data["opd"] = [opd["id"]]
                elif transition == "unggah_hasil":
                    content = f"desa,jumlah\nDesa 1,{i}\n# {ref}\n".encode()
                    data["result"] = upload("hasil.csv", content)
                    hashes["result"] = sha(content)
                result = act(user, "statrequest_transition", id=created["id"],
                             transition=transition, version=version, **data)
                ack("transition", id=created["id"], transition=transition, version=version,
                    new_version=result["version"], state=result["state"], user=user,
                    files=hashes)
                version, state = result["version"], result["state"]
            reached[state] = reached.get(state, 0) + 1
    return reached


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ini", required=True)
    parser.add_argument("--requests", type=int, default=100_000)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--prelude", type=int, default=0)
    parser.add_argument("--opd-count", type=int, default=3)
    parser.add_argument("--acks", type=Path)
    parser.add_argument("--pki", help="make the test PKI here (`ckan statrequest init-test-pki`)")
    args = parser.parse_args()

    from ckan.cli import load_config
    from ckan.config.middleware import make_app

    app = make_app(load_config(args.ini))
    started = time.perf_counter()
    with app._wsgi_app.test_request_context():
        people = bench_run.setup()
        if args.pki:  # the command's own code, now that the officials hold their positions
            from ckanext.statrequest.cli import init_test_pki

            init_test_pki.callback(directory=args.pki)
        seeded: dict[str, Any] = {"requests": 0}
        if args.requests > 0:
            seeded = bench_run.seed(args.requests, people)
        staff = [name for name, _position, _capacity in bench_run.STAFF]
        opd = [{"id": oid, "name": o["name"], "admin": o["admin"]}
               for oid, o in people["opd"].items()]
        requesters = sorted(people["requesters"].values())
        tokens = tokens_for(staff + [o["admin"] for o in opd] + requesters)
        config = {
            "created": dt.datetime.now(dt.timezone.utc).isoformat(),
            "seeded": seeded,
            "floors": floors(),
            "staff": {name: position for name, position, _c in bench_run.STAFF},
            "staff_ids": {name: people[name] for name in staff},
            "opd": opd,
            "requesters": requesters,
            "tokens": tokens,
            "dataset": bench_run.DATASET,
        }
        if args.prelude:
            config["prelude"] = prelude(args.prelude, config, args.opd_count,
                                        args.acks or args.out.with_name("acks.jsonl"))
        config["seconds"] = round(time.perf_counter() - started, 1)
    args.out.write_text(json.dumps(config, indent=2))
    print(json.dumps({"seeded": seeded, "prelude": config.get("prelude"),
                      "seconds": config["seconds"]}))


if __name__ == "__main__":
    main()
