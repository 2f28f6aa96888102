"""The workflow engine: the shipped YAML, broken variants, and the query API."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from ckanext.statrequest.core.workflow import (
    DEFAULT_PATH,
    NOT_ASSIGNEE,
    UNKNOWN_TRANSITION,
    WRONG_ACTOR,
    WRONG_STATE,
    Label,
    TransitionNotAllowed,
    Workflow,
    WorkflowError,
    check_file,
    load_default,
)

ALL_ROLES = {"sekretaris", "kepala_dinas", "kepala_bidang", "kepala_seksi", "staf",
             "petugas_loket", "pemohon", "opd"}


@pytest.fixture(scope="module")
def wf() -> Workflow:
    return load_default()


def default_data() -> dict[str, Any]:
    return yaml.safe_load(DEFAULT_PATH.read_text(encoding="utf-8"))


def tr(data: dict[str, Any], name: str) -> dict[str, Any]:
    return next(t for t in data["transitions"] if t["name"] == name)


def problems_of(data: Any) -> list[str]:
    with pytest.raises(WorkflowError) as exc:
        Workflow.from_dict(data)
    return exc.value.problems


# --- the shipped workflow ---------------------------------------------------------------------


def test_default_workflow_is_valid(wf: Workflow) -> None:
    assert check_file(DEFAULT_PATH) == []
    assert list(wf.states) == [
        "diajukan", "perlu_perbaikan", "disposisi_kadis", "telaah_kabid", "disposisi_kasi",
        "tindak_lanjut_staf", "menunggu_opd", "pemeriksaan_staf", "pemeriksaan_kasi",
        "paraf_kabid", "paraf_sekretaris", "ttd_kadis", "selesai", "dibatalkan",
        "keberatan", "keberatan_diputus",
    ]
    assert wf.initial == "diajukan"
    assert wf.final == {"selesai", "dibatalkan", "keberatan_diputus"}
    assert wf.is_final("selesai") and not wf.is_final("ttd_kadis")
    assert list(wf.positions) == ["sekretaris", "kepala_dinas", "kepala_bidang",
                                  "kepala_seksi", "staf", "petugas_loket"]
    assert wf.front_desk_position == "petugas_loket"
    assert wf.actors == ALL_ROLES


def test_from_text_equals_from_path() -> None:
    text = DEFAULT_PATH.read_text(encoding="utf-8")
    assert Workflow.from_yaml(text) == Workflow.from_yaml(DEFAULT_PATH)
    assert Workflow.from_yaml(str(DEFAULT_PATH)) == load_default()


def test_labels_are_bilingual(wf: Workflow) -> None:
    for item in [*wf.states.values(), *wf.transitions.values()]:
        assert item.label.id and item.label.en
    assert wf.state("diajukan").label.get("id") == "Diajukan — menunggu pemeriksaan Sekretaris"
    assert wf.state("diajukan").label.get("en_GB").startswith("Submitted")
    assert wf.positions["kepala_dinas"].get("en") == "Head of Agency"


def test_label_falls_back_to_indonesian() -> None:
    assert Label(id="Selesai", en="Done").get("fr") == "Selesai"


def test_default_workflow_is_read_only(wf: Workflow) -> None:
    assert load_default() is wf
    with pytest.raises(TypeError):
        wf.states["x"] = wf.states["selesai"]  # type: ignore[index]


def test_decisions_encoded_in_default(wf: Workflow) -> None:
    tolak = wf.transition("tolak")
    assert (tolak.target, tolak.outcome, tolak.letter) == ("paraf_kabid", "ditolak", "draft")
    assert tolak.needs("note") and not tolak.is_public
    for name, actor in [("kembalikan_oleh_kabid", "kepala_bidang"),
                        ("kembalikan_oleh_sekretaris", "sekretaris"),
                        ("kembalikan_oleh_kadis", "kepala_dinas")]:
        t = wf.transition(name)
        assert (t.target, t.actor, t.needs("note")) == ("pemeriksaan_kasi", actor, True)
    assert wf.transition("kembalikan_ke_staf").target == "pemeriksaan_staf"
    sesuai = wf.transition("hasil_sesuai")
    assert sesuai.needs("outcome") and sesuai.needs("note") and sesuai.letter == "draft"
    assert wf.transition("hasil_tidak_sesuai").target == "menunggu_opd"
    upload = wf.transition("unggah_hasil").requirement("files")
    assert upload is not None
    assert upload.file_kinds == ("result",) and upload.or_dataset
    assert wf.transition("batalkan").sources == ("diajukan", "perlu_perbaikan")
    for name in ("paraf_kabid", "paraf_sekretaris"):
        assert wf.transition(name).letter == "paraf" and wf.transition(name).needs("signature")
    sign = wf.transition("tandatangani")
    assert (sign.target, sign.letter, sign.sla) == ("selesai", "sign", "stop")
    assert sign.needs("signature") and sign.is_public
    assert wf.transition("minta_perbaikan").is_public  # the requester must read what to fix


# --- who may do what --------------------------------------------------------------------------

AVAILABLE = [
    ("diajukan", {"sekretaris"}, False, ["teruskan_ke_kadis", "minta_perbaikan", "tolak"]),
    ("diajukan", {"pemohon"}, False, ["batalkan"]),
    ("diajukan", {"kepala_dinas", "staf"}, True, []),
    ("perlu_perbaikan", {"pemohon"}, False, ["kirim_ulang", "batalkan"]),
    ("perlu_perbaikan", {"sekretaris"}, False, []),
    ("disposisi_kadis", {"kepala_dinas"}, False, ["disposisi_ke_kabid"]),
    ("disposisi_kadis", {"sekretaris", "kepala_bidang"}, False, []),
    ("telaah_kabid", {"kepala_bidang"}, False, ["disposisi_ke_kasi"]),
    ("disposisi_kasi", {"kepala_seksi"}, False, ["tugaskan_staf", "perpanjang"]),
    ("disposisi_kasi", {"staf"}, True, []),
    ("tindak_lanjut_staf", {"staf"}, True, ["teruskan_ke_opd"]),
    ("tindak_lanjut_staf", {"staf"}, False, []),  # another staff member: not assigned
    ("tindak_lanjut_staf", {"kepala_seksi"}, True, ["perpanjang"]),  # the extension only
    ("menunggu_opd", {"opd"}, False, ["unggah_hasil", "data_tidak_tersedia"]),
    ("menunggu_opd", {"staf"}, True, ["unggah_hasil_atas_nama"]),  # data sent outside
    ("menunggu_opd", {"staf"}, False, []),
    ("pemeriksaan_staf", {"staf"}, True, ["hasil_sesuai", "hasil_tidak_sesuai"]),
    ("pemeriksaan_staf", {"staf"}, False, []),
    ("pemeriksaan_kasi", {"kepala_seksi"}, False,
     ["teruskan_ke_kabid", "kembalikan_ke_staf", "perpanjang"]),
    ("paraf_kabid", {"kepala_bidang"}, False, ["paraf_kabid", "kembalikan_oleh_kabid"]),
    ("paraf_sekretaris", {"sekretaris"}, False,
     ["paraf_sekretaris", "kembalikan_oleh_sekretaris"]),
    ("paraf_sekretaris", {"kepala_bidang"}, False, []),
    ("ttd_kadis", {"kepala_dinas"}, False, ["tandatangani", "kembalikan_oleh_kadis"]),
    # the requester may object to the answer (an objection step: it moves no request)
    ("selesai", ALL_ROLES, True, ["ajukan_keberatan"]),
    ("dibatalkan", ALL_ROLES, True, []),
    ("no_such_state", ALL_ROLES, True, []),
]


@pytest.mark.parametrize(("state", "roles", "is_assignee", "expected"), AVAILABLE)
def test_available(
    wf: Workflow, state: str, roles: set[str], is_assignee: bool, expected: list[str]
) -> None:
    assert [t.name for t in wf.available(state, roles, is_assignee)] == expected


def test_sekretaris_who_is_also_the_requester_sees_both(wf: Workflow) -> None:
    names = [t.name for t in wf.available("diajukan", {"sekretaris", "pemohon"})]
    assert names == ["teruskan_ke_kadis", "minta_perbaikan", "tolak", "batalkan"]


def test_every_holder_can_act(wf: Workflow) -> None:
    for state in wf.states.values():
        if not state.final:
            assert wf.available(state.name, {state.holder or ""}, is_assignee=True)


def test_check_allows(wf: Workflow) -> None:
    assert wf.check("diajukan", "tolak", {"sekretaris"}).name == "tolak"
    assert wf.check("perlu_perbaikan", "batalkan", ["pemohon"]).target == "dibatalkan"
    assert wf.check("pemeriksaan_staf", "hasil_sesuai", {"staf"}, is_assignee=True)


@pytest.mark.parametrize(("state", "name", "roles", "is_assignee", "reason"), [
    ("diajukan", "setujui", {"sekretaris"}, False, UNKNOWN_TRANSITION),
    ("disposisi_kadis", "teruskan_ke_kadis", {"sekretaris"}, False, WRONG_STATE),  # lost race
    ("selesai", "tandatangani", {"kepala_dinas"}, False, WRONG_STATE),
    ("diajukan", "teruskan_ke_kadis", {"pemohon"}, False, WRONG_ACTOR),
    ("ttd_kadis", "tandatangani", {"sekretaris"}, False, WRONG_ACTOR),
    ("tindak_lanjut_staf", "teruskan_ke_opd", {"staf"}, False, NOT_ASSIGNEE),
    ("pemeriksaan_staf", "hasil_sesuai", {"kepala_seksi"}, True, WRONG_ACTOR),
])
def test_check_refuses(
    wf: Workflow, state: str, name: str, roles: set[str], is_assignee: bool, reason: str
) -> None:
    with pytest.raises(TransitionNotAllowed) as exc:
        wf.check(state, name, roles, is_assignee)
    assert exc.value.reason == reason
    assert name in exc.value.message


def test_states_waiting_for(wf: Workflow) -> None:
    assert wf.states_waiting_for({"staf"}) == ["tindak_lanjut_staf", "pemeriksaan_staf"]
    assert wf.states_waiting_for({"sekretaris"}) == ["diajukan", "paraf_sekretaris"]
    # and the objections the Head of Agency decides (objections have states of their own)
    assert wf.states_waiting_for({"kepala_dinas"}) == ["disposisi_kadis", "ttd_kadis",
                                                       "keberatan"]
    assert wf.states_waiting_for({"kepala_bidang"}) == ["telaah_kabid", "paraf_kabid"]
    assert wf.states_waiting_for({"kepala_seksi"}) == ["disposisi_kasi", "pemeriksaan_kasi"]
    assert wf.states_waiting_for({"pemohon"}) == ["perlu_perbaikan"]
    assert wf.states_waiting_for({"opd", "pemohon"}) == ["perlu_perbaikan", "menunggu_opd"]
    assert wf.states_waiting_for(set()) == []


def test_sla(wf: Workflow) -> None:
    assert wf.sla_effect("minta_perbaikan") == "pause"
    assert wf.sla_effect("kirim_ulang") == "resume"
    assert wf.sla_effect(wf.transition("batalkan")) == "stop"
    assert wf.sla_effect("tandatangani") == "stop"
    assert wf.sla_effect("tolak") is None
    assert wf.sla_running("menunggu_opd")
    assert not wf.sla_running("perlu_perbaikan")
    assert not wf.sla_running("selesai")


def test_escalation(wf: Workflow) -> None:
    assert wf.superior_of("staf") == "kepala_seksi"
    assert wf.superior_of("kepala_dinas") is None
    assert wf.escalation_chain("staf") == ["kepala_seksi", "kepala_bidang", "sekretaris",
                                           "kepala_dinas"]
    assert wf.escalation_chain("kepala_dinas") == []


# --- inputs -----------------------------------------------------------------------------------

INPUTS = [
    ("teruskan_ke_kadis", {}, set()),
    ("minta_perbaikan", {}, {"note"}),
    ("minta_perbaikan", {"note": "   "}, {"note"}),
    ("minta_perbaikan", {"note": "Scan KTP tidak terbaca"}, set()),
    ("tolak", {"note": None}, {"note"}),
    ("disposisi_ke_kabid", {"instruction": "Segera tindak lanjuti"}, set()),
    ("disposisi_ke_kabid", {"note": "wrong field"}, {"instruction"}),
    ("tugaskan_staf", {}, {"assignee", "instruction"}),
    ("tugaskan_staf", {"assignee": "user-1", "instruction": "Koordinasi ke Dinkes"}, set()),
    ("teruskan_ke_opd", {"opd": []}, {"opd"}),
    ("teruskan_ke_opd", {"opd": "dinas-kesehatan"}, {"opd"}),  # a bare string is not a list
    ("teruskan_ke_opd", {"opd": [""]}, {"opd"}),
    ("teruskan_ke_opd", {"opd": ["dinas-kesehatan", "bappeda"]}, set()),
    ("unggah_hasil", {}, {"files"}),
    ("unggah_hasil", {"files": {"result": []}}, {"files"}),
    ("unggah_hasil", {"files": {"other": ["f1"]}}, {"files"}),
    ("unggah_hasil", {"files": ["f1"]}, {"files"}),
    ("unggah_hasil", {"files": {"result": ["f1"]}}, set()),
    ("unggah_hasil", {"dataset": "jumlah-penduduk-2025"}, set()),
    ("unggah_hasil_atas_nama", {}, {"files", "opd", "channel"}),
    ("unggah_hasil_atas_nama", {"files": {"result": ["f1"]}, "opd": ["a", "b"],
                                "channel": "email"}, {"opd"}),  # one OPD sent it
    ("unggah_hasil_atas_nama", {"files": {"result": ["f1"]}, "opd": ["a"],
                                "channel": "email"}, set()),
    ("data_tidak_tersedia", {}, {"note"}),
    ("hasil_sesuai", {}, {"note", "outcome"}),
    ("hasil_sesuai", {"note": "Lengkap", "outcome": "diterima"}, {"outcome"}),
    ("hasil_sesuai", {"note": "Sebagian", "outcome": "dipenuhi_sebagian"}, set()),
    ("paraf_kabid", {}, {"signature"}),
    ("tandatangani", {"signature": ""}, {"signature"}),
    ("tandatangani", {"signature": "123456"}, set()),
]


@pytest.mark.parametrize(("name", "inputs", "fields"), INPUTS)
def test_validate_inputs(
    wf: Workflow, name: str, inputs: dict[str, Any], fields: set[str]
) -> None:
    errors = wf.validate_inputs(wf.transition(name), inputs)
    assert set(errors) == fields
    assert all(isinstance(msg, str) and msg for msg in errors.values())


def test_validate_inputs_messages(wf: Workflow) -> None:
    assert wf.validate_inputs("unggah_hasil", {}) == {
        "files": "Please attach the files or link a dataset."
    }
    assert wf.validate_inputs("tugaskan_staf", {"instruction": "x"}) == {
        "assignee": "Please choose a staff member."
    }


# --- broken workflows -------------------------------------------------------------------------

Mutation = Callable[[dict[str, Any]], None]


def _add_state(data: dict[str, Any], name: str, holder: str | None = "sekretaris") -> None:
    data["states"][name] = {"label": {"id": name, "en": name}, "holder": holder,
                            "sla": "running"}


def _add_transition(data: dict[str, Any], name: str, src: Any, dst: str,
                    actor: str = "sekretaris", **extra: Any) -> None:
    data["transitions"].append({"name": name, "from": src, "to": dst, "actor": actor,
                                "visibility": "internal", "label": {"id": name, "en": name},
                                **extra})


def _unreachable(d: dict[str, Any]) -> None:
    _add_state(d, "arsip")
    _add_transition(d, "arsipkan", "arsip", "selesai", sla="stop")


def _dead_end(d: dict[str, Any]) -> None:
    _add_state(d, "ditunda")
    _add_transition(d, "tunda", "diajukan", "ditunda")


def _trap(d: dict[str, Any]) -> None:
    _add_state(d, "a")
    _add_state(d, "b")
    _add_transition(d, "ke_a", "diajukan", "a")
    _add_transition(d, "ke_b", "a", "b")
    _add_transition(d, "balik_ke_a", "b", "a")


def _set(path: str, value: Any) -> Mutation:
    """Mutation that sets data[k1][k2]... (transitions addressed by name)."""
    def mutate(d: dict[str, Any]) -> None:
        *keys, last = path.split(".")
        node: Any = d
        for key in keys:
            node = tr(d, key) if node is d["transitions"] else node[key]
        if value is _DELETE:
            del node[last]
        else:
            node[last] = value
    return mutate


_DELETE = object()

BROKEN: list[tuple[str, Mutation, str]] = [
    ("unknown to", _set("transitions.tolak.to", "paraf_kabidd"),
     "transition 'tolak': unknown state 'paraf_kabidd' in 'to'"),
    ("unknown from", _set("transitions.batalkan.from", ["diajukan", "perlu_perbaikn"]),
     "transition 'batalkan': unknown state 'perlu_perbaikn' in 'from'"),
    ("unknown actor", _set("transitions.tugaskan_staf.actor", "kasi"),
     "transition 'tugaskan_staf': unknown actor 'kasi'"),
    ("actor not a name", _set("transitions.tugaskan_staf.actor", ["kepala_seksi"]),
     "transition 'tugaskan_staf': unknown actor ['kepala_seksi']"),
    ("unknown holder", _set("states.diajukan.holder", "sekdis"),
     "state 'diajukan': unknown holder 'sekdis'"),
    ("holder cannot act", _set("states.diajukan.holder", "kepala_dinas"),
     "state 'diajukan': its holder 'kepala_dinas' has no transition out"),
    ("unknown requirement", _set("transitions.tolak.requires", ["note", "lampiran"]),
     "transition 'tolak': unknown requirement 'lampiran'"),
    ("files without kinds", _set("transitions.unggah_hasil.requires", ["files"]),
     "transition 'unggah_hasil': requirement 'files' needs kinds"),
    ("channel without opd", _set("transitions.unggah_hasil_atas_nama.requires",
                                  [{"files": ["result"]}, "channel"]),
     "transition 'unggah_hasil_atas_nama': requires 'channel' needs 'opd' and 'files' too"),
    ("channel by the opd", _set("transitions.unggah_hasil.requires",
                                [{"files": ["result"]}, "opd", "channel"]),
     "transition 'unggah_hasil': 'channel' is for uploads on an OPD's behalf, not by the OPD"),
    ("requirement twice", _set("transitions.tolak.requires", ["note", "note"]),
     "transition 'tolak': requirement 'note' listed twice"),
    ("duplicate name", lambda d: d["transitions"].append(copy.deepcopy(tr(d, "tolak"))),
     "transition 'tolak': duplicate transition name"),
    ("bad name", _set("transitions.tolak.name", "Tolak Permohonan"),
     "transition #3: name must be snake_case, got 'Tolak Permohonan'"),
    ("unreachable", _unreachable,
     "state 'arsip' is unreachable from the initial state 'diajukan'"),
    ("dead end", _dead_end, "state 'ditunda' is a dead end: not final and no transition out"),
    ("trap", _trap, "state 'a' cannot reach a final state"),
    ("final with way out",
     lambda d: _add_transition(d, "buka_kembali", "selesai", "diajukan", actor="pemohon"),
     "final state 'selesai' has outgoing transitions: buka_kembali"),
    ("sign without signature", _set("transitions.tandatangani.requires", []),
     "transition 'tandatangani': letter 'sign' requires 'signature'"),
    ("paraf without signature", _set("transitions.paraf_kabid.requires", ["note"]),
     "transition 'paraf_kabid': letter 'paraf' requires 'signature'"),
    ("signature without letter",
     _set("transitions.kembalikan_oleh_kadis.requires", ["note", "signature"]),
     "transition 'kembalikan_oleh_kadis': requires 'signature' but has no letter paraf or sign"),
    ("requester assignee_only", _set("transitions.kirim_ulang.assignee_only", True),
     "transition 'kirim_ulang': assignee_only is only for the assignee position 'staf', "
     "not actor 'pemohon'"),
    ("opd assignee_only", _set("transitions.unggah_hasil.assignee_only", True),
     "not actor 'opd'"),
    ("unknown letter effect", _set("transitions.tolak.letter", "print"),
     "transition 'tolak': unknown letter effect 'print'"),
    ("outcome fixed and required", _set("transitions.tolak.requires", ["note", "outcome"]),
     "transition 'tolak': outcome is fixed, so it cannot also be required"),
    ("unknown outcome", _set("transitions.tolak.outcome", "refused"),
     "transition 'tolak': unknown outcome 'refused'"),
    ("bad visibility", _set("transitions.tolak.visibility", "secret"),
     "transition 'tolak': visibility must be public or internal, got 'secret'"),
    ("missing state label", _set("states.selesai.label", {"id": "Selesai"}),
     "state 'selesai': missing label 'en'"),
    ("label typo", _set("states.selesai.label", {"id": "Selesai", "en": "Done", "eng": "x"}),
     "state 'selesai': unknown label language 'eng'"),
    ("missing transition label", _set("transitions.tolak.label", _DELETE),
     "transition 'tolak': missing label"),
    ("missing position label", lambda d: d["positions"][4].pop("label"),
     "position 'staf': missing label"),
    ("pause not declared", _set("transitions.minta_perbaikan.sla", _DELETE),
     "transition 'minta_perbaikan': from 'diajukan' (running) to 'perlu_perbaikan' (paused) "
     "needs sla pause, not unset"),
    ("wrong sla effect", _set("transitions.kirim_ulang.sla", "pause"),
     "needs sla resume, not pause"),
    ("spurious sla effect", _set("transitions.tolak.sla", "stop"),
     "transition 'tolak': from 'diajukan' (running) to 'paraf_kabid' (running) "
     "needs sla unset, not stop"),
    ("unknown sla effect", _set("transitions.tolak.sla", "freeze"),
     "transition 'tolak': unknown sla effect 'freeze'"),
    ("unknown sla flag", _set("states.telaah_kabid.sla", "frozen"),
     "state 'telaah_kabid': sla must be one of running, paused, stopped, got 'frozen'"),
    ("final still running", _set("states.selesai.sla", "running"),
     "state 'selesai': a final state must have sla 'stopped'"),
    ("stopped but not final", _set("states.telaah_kabid.sla", "stopped"),
     "state 'telaah_kabid': sla 'stopped' is only for final states"),
    ("unknown initial", _set("initial", "baru"), "initial: unknown state 'baru'"),
    ("unknown final", _set("final", ["selesai", "dibatalkan", "ditutup"]),
     "final: unknown state 'ditutup'"),
    ("unknown superior", _set("superior.staf", "kasi"), "superior: unknown position 'kasi'"),
    ("superior cycle", _set("superior.kepala_dinas", "staf"),
     "superior: cycle staf -> kepala_seksi -> kepala_bidang -> sekretaris -> kepala_dinas "
     "-> staf"),
    ("reserved position", lambda d: d["positions"].append(
        {"code": "pemohon", "label": {"id": "Pemohon", "en": "Requester"}}),
     "position 'pemohon': 'pemohon' is reserved for a built-in actor"),
    ("duplicate position", lambda d: d["positions"].append(copy.deepcopy(d["positions"][0])),
     "position 'sekretaris': duplicate position"),
    ("unknown assignee position", _set("assignee_position", "pelaksana"),
     "assignee_position: unknown position 'pelaksana'"),
    ("top-level typo", lambda d: d.update(transition=[]), "unknown top-level key 'transition'"),
    ("transition key typo", lambda d: tr(d, "tolak").update(requries=["note"]),
     "transition 'tolak': unknown key 'requries'"),
    ("state key typo", _set("states.selesai.hodler", None),
     "state 'selesai': unknown key 'hodler'"),
]


@pytest.mark.parametrize(("mutate", "expected"), [b[1:] for b in BROKEN],
                         ids=[b[0] for b in BROKEN])
def test_broken_workflow(mutate: Mutation, expected: str) -> None:
    data = default_data()
    mutate(data)
    problems = problems_of(data)
    assert any(expected in p for p in problems), problems


def test_every_problem_is_reported_at_once() -> None:
    data = default_data()
    tr(data, "tolak")["to"] = "nowhere"
    tr(data, "tandatangani")["requires"] = []
    data["states"]["selesai"]["label"] = {"id": "Selesai"}
    _dead_end(data)
    problems = problems_of(data)
    assert len(problems) == 4, problems
    message = str(WorkflowError(problems))
    assert message.startswith("invalid workflow:\n- ")


def test_not_a_mapping() -> None:
    assert problems_of(["diajukan"]) == ["the workflow must be a YAML mapping"]
    assert "positions: list at least one position (code and label)" in problems_of({})


def test_yaml_syntax_error() -> None:
    with pytest.raises(WorkflowError) as exc:
        Workflow.from_yaml("initial: diajukan\nstates: [unclosed\n")
    assert exc.value.problems[0].startswith("YAML syntax error")


def test_duplicate_yaml_key_is_reported() -> None:
    # PyYAML would silently keep only the second `selesai`, hiding a copy-paste mistake.
    text = DEFAULT_PATH.read_text(encoding="utf-8").replace(
        "  dibatalkan:\n    label:", "  selesai:\n    label:", 1)
    with pytest.raises(WorkflowError) as exc:
        Workflow.from_yaml(text)
    assert any(p.startswith("duplicate key 'selesai' at line ") for p in exc.value.problems)


def test_check_file(tmp_path: Path) -> None:
    broken = tmp_path / "workflow.yaml"
    data = default_data()
    tr(data, "kirim_ulang")["actor"] = "pemohon_data"
    broken.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    assert check_file(broken) == ["transition 'kirim_ulang': unknown actor 'pemohon_data'"]
    assert check_file(str(broken)) == check_file(broken)
    missing = check_file(tmp_path / "nope.yaml")
    assert len(missing) == 1 and missing[0].startswith("cannot read ")


# --- objections (keberatan): steps that move an objection, not the request --------------------


def test_default_objection_steps(wf: Workflow) -> None:
    filing, deciding = wf.objection_step("file"), wf.objection_step("decide")
    assert filing is not None and deciding is not None
    assert filing.actor == "pemohon" and all(wf.is_final(s) for s in filing.sources)
    assert deciding.sources == (filing.target,) and wf.is_final(deciding.target)
    assert wf.states[filing.target].holder == "kepala_dinas"  # the atasan PPID decides
    assert (filing.days, deciding.days) == (30, 30)
    assert deciding.needs("signature") and deciding.letter is None
    # the objection's state is in the Head of Agency's inbox, and no request clock runs there
    assert filing.target in wf.states_waiting_for(["kepala_dinas"])
    assert not wf.sla_running(filing.target)


def test_a_workflow_without_objections_is_valid() -> None:
    data = default_data()
    data["transitions"] = [t for t in data["transitions"] if "objection" not in t]
    for name in ("keberatan", "keberatan_diputus"):
        del data["states"][name]
    data["final"] = ["selesai", "dibatalkan"]
    wf = Workflow.from_dict(data)
    assert wf.objection_step("file") is None and wf.objection_step("decide") is None


def test_only_an_objection_leaves_a_final_state() -> None:
    data = default_data()
    del tr(data, "ajukan_keberatan")["objection"]
    found = problems_of(data)
    assert any("final state 'selesai' has outgoing transitions: ajukan_keberatan" in p
               for p in found)


@pytest.mark.parametrize(("change", "expected"), [
    (lambda d: tr(d, "ajukan_keberatan").update(objection="appeal"),
     "objection must be one of file, decide"),
    (lambda d: tr(d, "ajukan_keberatan").update(actor="sekretaris"),
     "only the requester ('pemohon') files an objection"),
    (lambda d: tr(d, "ajukan_keberatan").update({"from": "ttd_kadis"}),
     "an objection is filed against a final state, not 'ttd_kadis'"),
    (lambda d: tr(d, "ajukan_keberatan").update(days=0),
     "days must be a whole number of working days (1-365)"),
    (lambda d: tr(d, "putuskan_keberatan").update(days="30"),
     "days must be a whole number of working days (1-365)"),
    (lambda d: tr(d, "putuskan_keberatan").update(requires=["note"]),
     "the decision is a signed letter: requires 'signature'"),
    (lambda d: tr(d, "putuskan_keberatan").update(actor="pemohon"),
     "an objection is decided by a position, not 'pemohon'"),
    (lambda d: tr(d, "putuskan_keberatan").update(visibility="internal"),
     "an objection step is public"),
    (lambda d: tr(d, "tandatangani").update(days=10), "days is only for objection steps"),
    (lambda d: d["states"]["keberatan"].update(sla="running"),
     "an objection state must have sla 'stopped'"),
    (lambda d: d["transitions"].remove(tr(d, "putuskan_keberatan")),
     "needs one 'file' and one 'decide' transition"),
])
def test_broken_objection_steps_are_reported(change: Callable[[dict[str, Any]], Any],
                                             expected: str) -> None:
    data = default_data()
    change(data)
    assert any(expected in p for p in problems_of(data)), problems_of(data)
