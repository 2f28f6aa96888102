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
