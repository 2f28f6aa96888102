"""The OPD choice: every OPD offered (no 25 cap of CKAN's organization_list), only OPD."""
from __future__ import annotations

import re

import ckantoolkit as tk
import pytest
from support import act, fire, submit, walk

from ckanext.statrequest.lib import opd

pytestmark = pytest.mark.usefixtures("with_plugins")

LAST = "Satuan Polisi Pamong Praja"  # sorts after every "Perangkat Daerah NN" and "Dinas ..."


@pytest.fixture
def sixty_opd(office) -> dict[str, str]:
    """60 OPD in all: the office's three, 56 numbered ones and one that sorts last."""
    from ckan.tests import factories

    for n in range(1, 57):
        factories.Organization(name=f"perangkat-daerah-{n:02d}", title=f"Perangkat Daerah {n:02d}")
    last = factories.Organization(name="satpol-pp", title=LAST)
    return {"last": last["id"]}


def _options(body: str, select_id: str) -> list[tuple[str, str]]:
    """(value, label) of the options of the select with this id, in page order."""
    found = re.search(rf'<select[^>]*id="{re.escape(select_id)}"[^>]*>(.*?)</select>', body,
                      re.DOTALL)
    assert found, select_id
    return re.findall(r'<option[^>]*value="([^"]*)"[^>]*>([^<]*)</option>', found.group(1))


def test_all_sixty_opd_are_offered_sorted_and_routable(make_app, office, sixty_opd):
    ckan_list = tk.get_action("organization_list")({}, {"all_fields": True, "limit": 1000})
    assert len(ckan_list) == 25  # CKAN's cap, the reason for lib/opd.py
    offered = opd.offered()
    assert len(offered) == 60
    assert "diskominfo" not in {o.name for o in offered}
    assert [o.title for o in offered] == sorted((o.title for o in offered), key=str.lower)
    assert offered[-1].title == LAST

    app = make_app()
    app.set_session_user("pemohon1")
    form = _options(app.get("/permintaan-data/baru").body, "organization_ids")
    assert [label for _, label in form] == [o.title for o in offered]

    rid = walk(office, submit()["id"], "tugaskan_staf")  # staf1 may now route it
    shown = act("staf1", "statrequest_show", id=rid)
    app = make_app()
    app.set_session_user("staf1")
    page = app.get(f"/permintaan-data/{shown['tracking_number']}").body
    routing = _options(page, "teruskan_ke_opd-opd")
    assert len(routing) == 60 and routing[-1] == (sixty_opd["last"], LAST)

    app.post(f"/permintaan-data/{shown['tracking_number']}/aksi", data={
        "transition": "teruskan_ke_opd", "version": str(shown["version"]),
        "opd": sixty_opd["last"]})
    after = act("staf1", "statrequest_show", id=rid)
    assert after["state"] == "menunggu_opd"
    assert [(o["title"], o["routed"]) for o in after["organizations"]] == [(LAST, True)]


@pytest.mark.ckan_config("ckanext.statrequest.opd_organizations",
                         "dinas-kesehatan dinas-pendidikan")
def test_only_the_configured_opd_are_offered_and_accepted(make_app, office):
    assert [o.name for o in opd.offered()] == ["dinas-kesehatan", "dinas-pendidikan"]
    app = make_app()
    app.set_session_user("pemohon1")
    form = _options(app.get("/permintaan-data/baru").body, "organization_ids")
    assert [label for _, label in form] == ["Dinas Kesehatan", "Dinas Pendidikan"]

    with pytest.raises(tk.ValidationError) as refused:
        submit(organization_ids=["dinas-pertanian"])
    assert "dinas-pertanian is not an agency (OPD)" in str(refused.value.error_dict)
    assert act("sekretaris", "statrequest_list")["count"] == 0

    rid = walk(office, submit(organization_ids=["dinas-kesehatan"])["id"], "tugaskan_staf")
    with pytest.raises(tk.ValidationError) as refused:
        fire("staf1", rid, "teruskan_ke_opd", opd=["dinas-pertanian"])
    assert "opd" in refused.value.error_dict
    assert act("staf1", "statrequest_show", id=rid)["state"] == "tindak_lanjut_staf"
    fire("staf1", rid, "teruskan_ke_opd", opd=["dinas-pendidikan"])
    assert act("staf1", "statrequest_show", id=rid)["state"] == "menunggu_opd"


def test_diskominfo_is_no_opd(office):
    with pytest.raises(tk.ValidationError) as refused:
        submit(organization_ids=["diskominfo"])
    assert "diskominfo is not an agency (OPD)" in str(refused.value.error_dict)
