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

# How data an OPD sent outside the portal reached Diskominfo (the assigned staff member uploads
# it on the OPD's behalf); a label completes "received by ..." on the request's timeline
DATA_CHANNELS: dict[str, str] = {
    "email": N_("email"),
    "surat": N_("paper letter"),
    "langsung": N_("flash disk or in person"),
    "lainnya": N_("other means"),
}

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
