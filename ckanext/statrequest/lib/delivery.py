"""Delivery of a finished request: a private CKAN dataset with the signed reply and the data.

On the final signature a background job (RQ) copies the signed reply letter and the result
files into a private dataset of the Diskominfo organisation, through CKAN's own resource
upload, so that downloads go through `/dataset/<id>/resource/<rid>/download/...` and CKAN's
permission checks like any other resource.

Who may read such a dataset: the requester, Diskominfo (members of the
organisation; every position holder is one) and the admins/editors of the OPD the request
was routed to. That rule is expressed once, as CKAN permission labels, which drive search,
`package_show` (and through it resources, downloads and activity streams); the chained auth
functions in `logic/auth/delivery.py` apply the same labels so that nothing else (dataset
collaborators, other plugins) widens it.

The job is idempotent and safe to run twice at once: the dataset id and every resource id are
derived from the request and attachment ids (uuid5), a retried job finds what an earlier run
made and adds only what is missing, and an advisory lock keeps two workers from delivering the
same request side by side.
"""
from __future__ import annotations

import contextlib
import hashlib
import logging
import tempfile
import uuid
from collections.abc import Iterator
from typing import Any

import ckan.model as model
import ckantoolkit as tk
from ckan.lib.helpers import unified_resource_format
from ckan.lib.munge import munge_title_to_name
from ckan.lib.plugins import DefaultPermissionLabels
from sqlalchemy import select, text, update
from werkzeug.datastructures import FileStorage

from ckanext.statrequest import settings
from ckanext.statrequest.lib import access, attachments
from ckanext.statrequest.model import Attachment, Request, RequestDataset

log = logging.getLogger(__name__)

# Fixed namespace for the derived ids; changing it would orphan every delivered dataset.
NAMESPACE = uuid.UUID("5b0f2f0e-4c1a-4f57-9d5e-6b7e2d6c1a10")
PLUGIN_DATA_KEY = "statrequest"  # package.plugin_data: only sysadmins can set it, never shown
REQUESTER_LABEL = "statrequest-requester-{}"
OPD_LABEL = "statrequest-opd-{}"
ROLE = "delivery"  # RequestDataset.role of the delivered dataset

delivered = tk.signals.ckanext.signal("statrequest_delivered")


def package_id_for(request_id: str) -> str:
    return str(uuid.uuid5(NAMESPACE, f"request:{request_id}"))


def resource_id_for(attachment_id: str) -> str:
    return str(uuid.uuid5(NAMESPACE, f"attachment:{attachment_id}"))


# --- who may read it ------------------------------------------------------------------------

def request_of(pkg: model.Package | None) -> Request | None:
    """The request whose delivery dataset `pkg` is; None for every other dataset.

    Cheap for ordinary datasets (no query). The request id sits in plugin_data, which only a
    sysadmin can write, and must also match the dataset id derived from it, so editing a
    dataset can never make it (or another one) a delivery dataset.
    """
    if pkg is None:
        return None
    mark = (pkg.plugin_data or {}).get(PLUGIN_DATA_KEY)
    request_id = mark.get("request_id") if isinstance(mark, dict) else None
    if not isinstance(request_id, str) or pkg.id != package_id_for(request_id):
        return None
    return model.Session.get(Request, request_id)


def dataset_labels(pkg: model.Package) -> list[str]:
    """IPermissionLabels.get_dataset_labels: ours for delivery datasets, CKAN's for the rest.

    A delivery dataset never gets `public` (even if someone flips it public) nor the
    collaborator label: only Diskominfo, the requester and the routed OPD.
    """
    request = request_of(pkg)
    if request is None:
        return DefaultPermissionLabels().get_dataset_labels(pkg)
    labels = [f"member-{pkg.owner_org}"] if pkg.owner_org else []
    if request.requester_id:
        labels.append(REQUESTER_LABEL.format(request.requester_id))
    labels.extend(OPD_LABEL.format(org) for org in sorted(access.routed_org_ids(request.id)))
    return labels


def user_labels(user: model.User | None) -> list[str]:
    """IPermissionLabels.get_user_dataset_labels: CKAN's plus the requester and OPD labels."""
    labels = DefaultPermissionLabels().get_user_dataset_labels(user)  # type: ignore[arg-type]
    if user is None or getattr(user, "is_anonymous", True) or not getattr(user, "id", None):
        return labels
    actor = access.actor_for(user)
    if actor.anonymous:  # a deleted or pending account
        return labels
    labels.append(REQUESTER_LABEL.format(user.id))
    labels.extend(OPD_LABEL.format(org) for org in sorted(actor.opd_ids))
    return labels


def may_read(user: model.User | None, pkg: model.Package) -> bool:
    """The label rule for one user and one dataset (what package_search applies in Solr)."""
    if user is not None and getattr(user, "sysadmin", False):
        return True
    return bool(set(user_labels(user)) & set(dataset_labels(pkg)))


def on_resource_download(sender: str, **kw: Any) -> None:
    """Receiver of CKAN's `resource_download` (sent with the response ready): a delivery
    dataset's file must not stay in a shared cache or the browser's (CKAN marks downloads
    `public` whenever no page was rendered)."""
    import flask

    resource = model.Resource.get(sender) if isinstance(sender, str) else None
    if resource is None or not flask.has_request_context() or \
            request_of(model.Package.get(resource.package_id)) is None:
        return
    flask.request.environ["__no_cache__"] = True  # CKAN then writes `private`, not `public`

    @flask.after_this_request
    def no_store(response: Any) -> Any:
        response.cache_control.no_store = True
        response.cache_control.public = False
        response.cache_control.max_age = None
        return response


def visible_members(user: model.User | None, package_ids: set[str]) -> set[str]:
    """Of these datasets, those that are no delivery dataset or that `user` may read."""
    if not package_ids:
        return set()
    hidden = set()
    for pkg in model.Session.scalars(select(model.Package).where(
            model.Package.id.in_(package_ids),
            model.Package.plugin_data.has_key(PLUGIN_DATA_KEY))):
        if request_of(pkg) is not None and not may_read(user, pkg):
            hidden.add(pkg.id)
    return package_ids - hidden


# --- the job --------------------------------------------------------------------------------

def on_transition(sender: str, request_id: str | None = None, **kw: Any) -> None:
    """Receiver of `letters.transitioned`: enqueue the delivery after the final signature.

    The final signature is the transition whose letter effect is `sign` (the default
    workflow's `tandatangani`), so a portal's own workflow works too. Never raises: the step is
    already committed, and `ckan statrequest deliver --pending` finds what was not enqueued.
    """
    t = settings.workflow().transitions.get(sender)
    if not request_id or t is None or t.letter != "sign":
        return
    try:
        enqueue(request_id)
    except Exception:
        log.exception("could not enqueue the delivery of request %s; "
                      "run `ckan statrequest deliver --pending`", request_id)


def enqueue(request_id: str) -> Any:
    return tk.enqueue_job(deliver, [request_id], title=f"statrequest: deliver {request_id}",
                          queue=settings.get("delivery.queue") or "default")


def pending() -> list[str]:
    """Finished requests with a signed reply whose delivery has not completed."""
    wf = settings.workflow()
    return list(model.Session.scalars(
        select(Request.id)
        .join(Attachment, Attachment.id == Request.letter_attachment_id)
        .where(Request.delivered_package_id.is_(None), Request.state.in_(wf.final),
               Attachment.kind == "signed_reply", Attachment.deleted_at.is_(None))
        .order_by(Request.closed_at)
    ))


def deliver(request_id: str) -> str | None:
    """Background job: create or complete the request's delivery dataset; returns its id.

    Does nothing for a request that is not finished with a signed reply.
    """
    with _lock(request_id):
        request = model.Session.get(Request, request_id)
        letter = _letter(request) if request is not None else None
        if request is None or letter is None:
            log.info("request %s has no signed reply to deliver", request_id)
            return None
        with _site_language():
            package_id = _ensure_package(request)
            present = set(model.Session.scalars(select(model.Resource.id).where(
                model.Resource.package_id == package_id, model.Resource.state == "active")))
            for row in [letter, *attachments.results(request.id)]:
                if resource_id_for(row.id) not in present:
                    _add_resource(package_id, row, resource_id_for(row.id),
                                  _description(request, row))
        first = _record(request.id, package_id)
    if first:  # a retried job does not notify twice
        try:
            delivered.send(request_id, request_id=request_id, package_id=package_id)
        except Exception:  # the delivery stands; notifications have their own retry
            log.exception("a statrequest_delivered receiver failed for %s", request_id)
    return package_id


@contextlib.contextmanager
def _lock(name: str) -> Iterator[None]:
    """A PostgreSQL advisory lock, held on its own connection for the whole job (the
    actions below commit several times, so a transaction-level lock would not last)."""
    digest = hashlib.sha256(f"statrequest-deliver:{name}".encode()).digest()
    key = int.from_bytes(digest[:8], "big", signed=True)
    assert model.meta.engine is not None
    with model.meta.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": key})
        try:
            yield
        finally:
            conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})


@contextlib.contextmanager
def _site_language() -> Iterator[None]:
    """Outside a web request (a worker, the CLI) translate into the portal's default
    language: the dataset's texts are read by its Indonesian users, not by the worker."""
    import flask

    if flask.has_request_context():
        yield
        return
    from ckan.lib.helpers import _get_auto_flask_context

    ctx = _get_auto_flask_context()
    if ctx is None:
        yield
        return
    with ctx.app.test_request_context():  # a fresh one: safe in several threads at once
        yield


def _letter(request: Request) -> Attachment | None:
    if request.state not in settings.workflow().final:
        return None
    row = model.Session.get(Attachment, request.letter_attachment_id or "")
    if row is None or row.kind != "signed_reply" or row.deleted_at is not None or not row.file_id:
        return None
    return row


def _context() -> dict[str, Any]:
    site_user = tk.get_action("get_site_user")({"ignore_auth": True}, {})
    user = model.User.get(site_user["name"])
    # auth_user_obj (a sysadmin) lets package_update keep plugin_data
    return {"user": site_user["name"], "auth_user_obj": user, "ignore_auth": True}


def _dataset_name(request: Request, package_id: str) -> str:
    prefix = settings.get("delivery.dataset_name_prefix") or ""
    name = f"{prefix}{request.tracking_number}".lower()[:100]
    taken = model.Package.get(name)
    if taken is not None and taken.id != package_id:  # someone else has it: stay unique
        name = f"{name[:91]}-{package_id[:8]}"
    return name


def _ensure_package(request: Request) -> str:
    package_id = package_id_for(request.id)
    pkg = model.Package.get(package_id)
    if pkg is not None and pkg.state == "active":
        return package_id
    if pkg is not None:  # deleted by hand since: bring it back rather than fail forever
        tk.get_action("package_patch")(
            _context() | {"allow_state_change": True}, {"id": package_id, "state": "active"})
        return package_id
    org = model.Group.get(settings.diskominfo_org())
    if org is None or not org.is_organization:
        raise RuntimeError(f"the Diskominfo organisation {settings.diskominfo_org()!r} is missing")
    tk.get_action("package_create")(_context(), {
        "id": package_id,
        "name": _dataset_name(request, package_id),
        "title": tk._("Data request %(number)s: %(title)s")
        % {"number": request.tracking_number, "title": request.title},
        "notes": tk._(
            "The signed reply and the data delivered for data request %(number)s. Only the "
            "requester, Diskominfo and the agency that provided the data can see this dataset."
        ) % {"number": request.tracking_number},
        "owner_org": org.id,
        "private": True,
        "plugin_data": {PLUGIN_DATA_KEY: {"request_id": request.id}},
    })
    return package_id


def _description(request: Request, row: Attachment) -> str:
    if row.kind == "signed_reply":
        return tk._("Electronically signed reply letter %(number)s.") % {
            "number": request.letter_number or ""}
    org = model.Group.get(row.organization_id) if row.organization_id else None
    if org is not None:
        return tk._("Data provided by %(organization)s.") % {"organization": org.title or org.name}
    return tk._("Data delivered with the reply.")


def _add_resource(package_id: str, row: Attachment, resource_id: str, description: str) -> None:
    """Upload one attachment's bytes as a resource, checking them against the recorded hash
    (the signed letter lists these hashes, so a silently altered file must not go out)."""
    digest = hashlib.sha256()
    with tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024) as buffer:
        for chunk in attachments.read(row.file_id or ""):
            digest.update(chunk)
            buffer.write(chunk)
        if digest.hexdigest() != row.sha256:
            raise RuntimeError(f"attachment {row.id} of request {row.request_id} does not "
                               "match its recorded SHA-256; not published")
        buffer.seek(0)
        tk.get_action("resource_create")(_context(), {
            "package_id": package_id,
            "id": resource_id,
            "name": row.name,
            "description": description,
            "url": row.name,
            "mimetype": row.media_type,
            "format": unified_resource_format(row.media_type),  # not guessed for a given id
            "hash": row.sha256,
            "upload": FileStorage(stream=buffer, filename=row.name, content_type=row.media_type),
        })


def _record(request_id: str, package_id: str) -> bool:
    """Note the delivery on the request and link the dataset; True the first time only."""
    first = model.Session.execute(
        update(Request)
        .where(Request.id == request_id, Request.delivered_package_id.is_(None))
        .values(delivered_package_id=package_id)
        .execution_options(synchronize_session=False)
    ).rowcount == 1
    if model.Session.get(RequestDataset, (request_id, package_id)) is None:
        model.Session.add(RequestDataset(request_id=request_id, package_id=package_id,
                                         role=ROLE))
    model.Session.commit()
    return first


# --- optional: the OPD also publishes the data as an open dataset ---------------------------

def open_package_id_for(request_id: str, organization_id: str) -> str:
    return str(uuid.uuid5(NAMESPACE, f"open:{request_id}:{organization_id}"))


def open_results(request: Request, organization_id: str) -> list[Attachment]:
    """The result files this OPD provided for the request (only its own are its to publish)."""
    return [a for a in attachments.results(request.id) if a.organization_id == organization_id]


def publish_open(request: Request, organization: model.Group, title: str, notes: str,
                 license_id: str | None) -> str:
    """A public dataset of the OPD with the files it provided; idempotent like `deliver`.

    Created as the site user: the deterministic id needs a sysadmin, and the OPD admin's
    decision is recorded in the request's own event log.
    """
    package_id = open_package_id_for(request.id, organization.id)
    with _lock(f"open:{package_id}"), _site_language():
        pkg = model.Package.get(package_id)
        if pkg is None:
            name = munge_title_to_name(title)[:90].strip("-") or "data"
            tk.get_action("package_create")(_context(), {
                "id": package_id, "name": f"{name}-{package_id[:8]}", "title": title,
                "notes": notes, "owner_org": organization.id, "private": False,
                **({"license_id": license_id} if license_id else {}),
            })
        present = set(model.Session.scalars(select(model.Resource.id).where(
            model.Resource.package_id == package_id, model.Resource.state == "active")))
        for row in open_results(request, organization.id):
            resource_id = str(uuid.uuid5(NAMESPACE, f"open:{row.id}"))
            if resource_id not in present:
                _add_resource(package_id, row, resource_id, tk._("Data provided by %(organization)s.")
                              % {"organization": organization.title or organization.name})
        if model.Session.get(RequestDataset, (request.id, package_id)) is None:
            model.Session.add(RequestDataset(request_id=request.id, package_id=package_id,
                                             role="published"))
            model.Session.commit()
    return package_id
