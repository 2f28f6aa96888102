"""Every code list of the service, in one place: the codes stored in the database and sent over
the API, each with its English label (the msgid; pages show it through ``_()``).

Codes are Indonesian because they are the office's own words and are kept in records; the
order of each list is the order users see. ``N_`` only marks a label for extraction: this
module knows nothing of CKAN, translation happens where a label is shown.
"""
from __future__ import annotations


def N_(text: str) -> str:  # noqa: N802 - gettext's conventional name for "mark only"
    return text


# Who asks (the service standard's three groups of users)
REQUESTER_CATEGORIES: dict[str, str] = {
    "masyarakat_umum": N_("Member of the public"),
    "instansi_pemerintah": N_("Government agency"),
    "dunia_usaha": N_("Business"),
}

# Identity document shown by the requester
IDENTITY_TYPES: dict[str, str] = {
    "nik": N_("NIK (KTP)"),
    "paspor": N_("Passport"),
    "nip": N_("NIP (civil servant)"),
    "lainnya": N_("Other identity number"),
}

# The answer given to a request
OUTCOMES: dict[str, str] = {
    "dipenuhi": N_("Fulfilled"),
    "dipenuhi_sebagian": N_("Partly fulfilled"),
    "ditolak": N_("Refused"),
}
# outcomes that come with data for the requester
OUTCOMES_WITH_DATA: tuple[str, ...] = ("dipenuhi", "dipenuhi_sebagian")
# outcomes whose letter must give a reason
OUTCOMES_WITH_REASON: tuple[str, ...] = ("ditolak", "dipenuhi_sebagian")
REFUSED = "ditolak"  # the outcome that cannot be given without a reason from REASONS

# Why a request is refused, only partly fulfilled, or its data is not available: code ->
# (Indonesian label, English label). The exception grounds of UU 14/2008 (KIP) Pasal 17
# letters a-j, then the service's own "no data" grounds. A portal may replace the whole list
# (ckanext.statrequest.reasons, read by `parse_reasons`); that is why the labels come in both
# languages here instead of as msgids: a replaced list is not in our translation catalogue.
REASONS: dict[str, tuple[str, str]] = {
    "pasal17a": ("Pasal 17 huruf a UU 14/2008: menghambat proses penegakan hukum",
                 "Law 14/2008 Art. 17(a): would obstruct law enforcement"),
    "pasal17b": ("Pasal 17 huruf b UU 14/2008: mengganggu perlindungan hak atas kekayaan "
                 "intelektual dan persaingan usaha yang sehat",
                 "Law 14/2008 Art. 17(b): would harm intellectual property or fair competition"),
    "pasal17c": ("Pasal 17 huruf c UU 14/2008: membahayakan pertahanan dan keamanan negara",
                 "Law 14/2008 Art. 17(c): would endanger national defence and security"),
    "pasal17d": ("Pasal 17 huruf d UU 14/2008: mengungkapkan kekayaan alam Indonesia",
                 "Law 14/2008 Art. 17(d): would reveal Indonesia's natural resources"),
    "pasal17e": ("Pasal 17 huruf e UU 14/2008: merugikan ketahanan ekonomi nasional",
                 "Law 14/2008 Art. 17(e): would harm national economic resilience"),
    "pasal17f": ("Pasal 17 huruf f UU 14/2008: merugikan kepentingan hubungan luar negeri",
                 "Law 14/2008 Art. 17(f): would harm foreign relations"),
    "pasal17g": ("Pasal 17 huruf g UU 14/2008: mengungkapkan isi akta otentik yang bersifat "
                 "pribadi dan kemauan terakhir atau wasiat seseorang",
                 "Law 14/2008 Art. 17(g): would reveal a private deed or a person's will"),
    "pasal17h": ("Pasal 17 huruf h UU 14/2008: mengungkap rahasia pribadi",
                 "Law 14/2008 Art. 17(h): would reveal personal secrets"),
    "pasal17i": ("Pasal 17 huruf i UU 14/2008: memorandum atau surat antar atau intra badan "
                 "publik yang menurut sifatnya dirahasiakan",
                 "Law 14/2008 Art. 17(i): confidential memoranda or letters of public bodies"),
    "pasal17j": ("Pasal 17 huruf j UU 14/2008: informasi yang tidak boleh diungkapkan "
                 "berdasarkan undang-undang",
                 "Law 14/2008 Art. 17(j): information a law forbids disclosing"),
    "data_tidak_dikuasai": ("Data tidak dikuasai oleh badan publik yang dimintai",
                            "Data not held by the public body asked"),
    "data_belum_tersedia": ("Data belum tersedia atau belum diproduksi",
                            "Data not yet available or not yet produced"),
    "bukan_data_statistik": ("Yang diminta bukan data statistik",
                             "What is asked for is not statistical data"),
}
REASON_CODE_PATTERN = r"[a-z0-9_]{1,64}"
REASON_LABEL_MAX = 300


def parse_reasons(text: str) -> dict[str, tuple[str, str]]:
    """A reason list as configured: one reason per line, ``code | Indonesian label | English
    label`` (without an English label the Indonesian one is shown). Raises ValueError naming
    every bad line, so that one look at the message fixes the configuration."""
    import re

    reasons: dict[str, tuple[str, str]] = {}
    problems: list[str] = []
    # numbered from the first line with text: an ini value usually starts on the next line
    for number, line in enumerate(text.strip().splitlines(), 1):
        if not line.strip():
            continue
        parts = [part.strip() for part in line.split("|")]
        code, labels = parts[0], [p for p in parts[1:3] if p]
        if not re.fullmatch(REASON_CODE_PATTERN, code):
            problems.append(f"line {number}: code {code!r} is not 1-64 of a-z, 0-9 and _")
        elif len(parts) > 3 or not labels or any(len(p) > REASON_LABEL_MAX for p in labels):
            problems.append(f"line {number}: expected 'code | Indonesian label | English "
                            f"label' (labels up to {REASON_LABEL_MAX} characters)")
        elif code in reasons:
            problems.append(f"line {number}: code {code!r} appears twice")
        else:
            reasons[code] = (labels[0], labels[-1])
    if not reasons and not problems:
        problems.append("no reason in the list")
    if problems:
        raise ValueError("; ".join(problems))
    return reasons

# Grounds of an objection (keberatan) under UU 14/2008 Pasal 35 ayat (1): code -> (Indonesian,
# English label), in both languages because the decision letter is always Indonesian; and what
# each ground needs of the answer objected to: a refusal (whole or partial), or a late answer.
OBJECTION_GROUNDS: dict[str, tuple[str, str]] = {
    "penolakan_pasal17": ("Penolakan berdasarkan alasan pengecualian Pasal 17 (Pasal 35 ayat "
                          "(1) huruf a)",
                          "Refusal on the exception grounds of Article 17 (Art. 35(1)(a))"),
    "tidak_dipenuhi": ("Permintaan tidak dipenuhi (Pasal 35 ayat (1) huruf e)",
                       "Request not fulfilled (Art. 35(1)(e))"),
    "tidak_sesuai_permintaan": ("Permintaan ditanggapi tidak sebagaimana yang diminta (Pasal 35 "
                                "ayat (1) huruf d)",
                                "Answer not as requested (Art. 35(1)(d))"),
    "melebihi_waktu": ("Permintaan tidak ditanggapi dalam jangka waktu yang diatur (Pasal 35 "
                       "ayat (1) huruf c dan g)",
                       "Request not answered in time (Art. 35(1)(c) and (g))"),
}
OBJECTION_REFUSED, OBJECTION_LATE = "refused", "late"
OBJECTION_GROUND_NEEDS: dict[str, str] = {
    "penolakan_pasal17": OBJECTION_REFUSED,
    "tidak_dipenuhi": OBJECTION_REFUSED,
    "tidak_sesuai_permintaan": OBJECTION_REFUSED,
    "melebihi_waktu": OBJECTION_LATE,
}
# The atasan PPID's decision (Pasal 36)
OBJECTION_DECISIONS: dict[str, tuple[str, str]] = {
    "diterima": ("Keberatan diterima", "Objection upheld"),
    "ditolak": ("Keberatan ditolak", "Objection rejected"),
}
OBJECTION_UPHELD = "diterima"

# How data an OPD sent outside the portal reached Diskominfo (the assigned staff member uploads
# it on the OPD's behalf); a label completes "received by ..." on the request's timeline
DATA_CHANNELS: dict[str, str] = {
    "email": N_("email"),
    "surat": N_("paper letter"),
    "langsung": N_("flash disk or in person"),
    "lainnya": N_("other means"),
}

# How a complaint reached the office: online through the portal, or received by the front
# desk (the SOP: "secara langsung ke Dinas Kominfo") and recorded there
COMPLAINT_CHANNELS: dict[str, str] = {
    "portal": N_("Portal (online)"),
    "langsung": N_("In person at the counter"),
    "surat": N_("Letter"),
    "email": N_("Email"),
    "telepon": N_("Telephone"),
}
COMPLAINT_ONLINE = "portal"  # the channel of complaints filed by their complainant online

# How a request reached Diskominfo (the incoming-letter register): the portal, or one of the
# ways the front desk registers it (DESK_CHANNELS)
RECEPTION_CHANNELS: dict[str, str] = {
    "portal": N_("web portal"),
    "surat": N_("letter"),
    "email": N_("email"),
    "langsung": N_("in person at the counter"),
    "lainnya": N_("other means"),
}
PORTAL_CHANNEL = "portal"
DESK_CHANNELS: tuple[str, ...] = tuple(c for c in RECEPTION_CHANNELS if c != PORTAL_CHANNEL)
LETTER_CHANNEL = "surat"  # the channel whose sender's letter number and date are recorded
# the timeline event of a desk registration (no workflow transition: like a portal
# submission it starts the request in the workflow's initial state)
DESK_EVENT = "daftar_loket"

# How someone holds a position (Permendagri 1/2023: definitive holder, Plt., Plh.)
POSITION_KINDS: dict[str, str] = {
    "definitif": N_("Definitive"),
    "plt": N_("Plt. (acting, pelaksana tugas)"),
    "plh": N_("Plh. (daily stand-in, pelaksana harian)"),
}
DEFINITIVE = "definitif"
# what the letter prints before the title of the one who signs
POSITION_KIND_PREFIX: dict[str, str] = {"definitif": "", "plt": "Plt.", "plh": "Plh."}

# Days the administrators add to the national calendar
HOLIDAY_KINDS: dict[str, str] = {
    "cuti_bersama": N_("Joint leave (cuti bersama)"),
    "libur_daerah": N_("Regional holiday"),
    "libur_lain": N_("Other day off"),
    "hari_kerja": N_("Working day despite the national calendar"),
}
WORKING_DAY = "hari_kerja"  # the one kind that makes a day a working day

# Where a person's signing key lives
CREDENTIAL_BACKENDS: dict[str, str] = {
    "pkcs12": N_("PKCS#12 key file"),
    "pkcs11": N_("PKCS#11 token"),
    "remote": N_("Remote signing service (NIK)"),
}

# What a time in the office's zone is written with (the portal's allowed zones)
ZONE_ABBREVIATIONS: dict[str, str] = {
    "Asia/Jakarta": "WIB", "Asia/Pontianak": "WIB", "Asia/Makassar": "WITA", "Asia/Jayapura": "WIT",
}

# The request's fields a correction may change (statrequest_update), with their form labels;
# the tracking number and the files are not among them (files go with the resubmission)
CORRECTABLE_FIELDS: dict[str, str] = {
    "requester_name": N_("Full name"),
    "identity_type": N_("Identity document"),
    "identity_number": N_("Identity number"),
    "category": N_("Category"),
    "institution": N_("Institution or company"),
    "email": N_("Email"),
    "phone": N_("Phone"),
    "address": N_("Address"),
    "title": N_("Title"),
    "description": N_("Description"),
    "period": N_("Period / years"),
    "breakdown": N_("Regional breakdown"),
    "data_format": N_("Format wanted"),
    "purpose": N_("Purpose of use"),
}
# the timeline event of a correction (no workflow transition: the request stays where it is)
CORRECTION_EVENT = "ubah_data"
