"""Every page of the service and the CKAN pages of a requester's journey pass axe-core (the
engine behind Lighthouse's accessibility audit) without serious or critical violations, at a
desktop width and a phone width, and a phone never scrolls sideways."""
from __future__ import annotations

import pytest
from axe_playwright_python.sync_playwright import Axe
from support import act, desk_data, finished_request, make_front_desk, submit, walk

from browser.chromium import BASE, DESKTOP, PHONE, login, shot

pytestmark = [pytest.mark.usefixtures("with_plugins"), pytest.mark.browser]

SEVERE = ("serious", "critical")


def pages(office) -> dict[str | None, list[str]]:
    """Who opens which page: the README's list of pages, each as a user it is for."""
    waiting = walk(office, submit()["id"], "teruskan_ke_opd")
    number = act("sekretaris", "statrequest_show", id=waiting)["tracking_number"]
    import ckan.model as model
    from ckan.tests import factories
    from support import USER_PASSWORD

    from ckanext.statrequest.model import Request

    factories.Sysadmin(name="a11y-admin", password=USER_PASSWORD)

    done = act("pemohon1", "statrequest_show", id=finished_request(office))
    fresh = submit(user="pemohon2")["tracking_number"]
    make_front_desk()
    desk = act("loket", "statrequest_register", **desk_data())["tracking_number"]
    code = model.Session.get(Request, done["id"]).verification_code
    return {
        None: ["/", "/user/login", "/user/register", "/permintaan-data/", "/permintaan-data/lacak",
               "/permintaan-data/transparansi", "/permintaan-data/verifikasi",
               f"/permintaan-data/verifikasi/{code}", "/en/permintaan-data/"],
        "pemohon1": ["/dashboard/", "/permintaan-data/baru", "/permintaan-data/saya",
                     f"/permintaan-data/{done['tracking_number']}",
                     f"/permintaan-data/{done['tracking_number']}/survei",
                     f"/permintaan-data/{done['tracking_number']}/publikasi",
                     "/permintaan-data/pengaduan"],
        "pemohon2": [f"/permintaan-data/{fresh}"],
        "sekretaris": ["/permintaan-data/kotak-masuk", "/permintaan-data/semua",
                       f"/permintaan-data/{fresh}", f"/permintaan-data/{number}",
                       f"/permintaan-data/{number}/lembar-disposisi", "/permintaan-data/statistik",
                       f"/permintaan-data/{fresh}/akses-identitas"],
        "admin-kesehatan": ["/permintaan-data/opd/dinas-kesehatan", f"/permintaan-data/{number}"],
        "staf1": [f"/permintaan-data/{number}"],
        "a11y-admin": ["/permintaan-data/admin/"],
        "loket": ["/permintaan-data/loket", f"/permintaan-data/loket/tanda-terima/{desk}",
                  "/permintaan-data/buku-agenda", "/permintaan-data/buku-agenda?cetak=1"],
    }


def problems_on(page, axe: Axe, path: str, width: int) -> list[str]:
    found = []
    for v in axe.run(page).response["violations"]:
        if v["impact"] in SEVERE:
            where = "; ".join(n["target"][0] if n["target"] else "?" for n in v["nodes"][:4])
            found.append(f"{width}px {path}: {v['id']} ({v['impact']}) {v['help']} — {where}")
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    if overflow > 0:
        culprit = page.evaluate("""() => {
            const w = window.innerWidth;
            const wide = [...document.querySelectorAll('body *')].filter(
                e => e.getBoundingClientRect().right > w + 1);
            const right = Math.max(...wide.map(e => e.getBoundingClientRect().right));
            const e = wide.filter(e => e.getBoundingClientRect().right >= right - 1).pop();
            return e ? e.tagName + '.' + [...e.classList].join('.') + '#' + e.id : '?';
        }""")
        found.append(f"{width}px {path}: scrolls sideways by {overflow}px ({culprit})")
    return found


def test_every_page_passes_axe_at_desktop_and_phone_width(server, browser, office):
    axe = Axe()
    found: list[str] = []
    for user, paths in pages(office).items():
        for viewport in (DESKTOP, PHONE):
            page = login(browser, user, viewport) if user else browser.new_page(viewport=viewport)
            for path in paths:
                response = page.goto(BASE + path)
                assert response.status < 400, (user, path, response.status)
                found += problems_on(page, axe, path, viewport["width"])
            page.close()
    assert not found, "\n".join(found)


def test_request_page_screenshots_at_both_widths(server, browser, office):
    number = submit()["tracking_number"]
    for viewport, name in ((DESKTOP, "a11y-request-1280"), (PHONE, "a11y-request-360")):
        page = login(browser, "pemohon1", viewport)
        page.goto(BASE + f"/permintaan-data/{number}")
        shot(page, name)
        # on a phone the request itself comes before the service menu
        if viewport is PHONE:
            main = page.locator("#state-label").bounding_box()
            menu = page.locator(".secondary").first.bounding_box()
            assert main["y"] < menu["y"]
        page.close()
