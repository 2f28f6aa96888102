"""ORM mapping of the statrequest tables (created only by the alembic migrations), one module
per group of tables; everything is importable from here."""
from ckanext.statrequest.model.feedback import Complaint, Survey
from ckanext.statrequest.model.objection import Objection
from ckanext.statrequest.model.office import Holiday, Position, SigningCredential
from ckanext.statrequest.model.opd_task import OpdTask
from ckanext.statrequest.model.outbox import Notification, RequestLanguage
from ckanext.statrequest.model.request import (
    Attachment,
    Counter,
    Event,
    IdentityAccess,
    OpenRequest,
    OpenRequestWord,
    Request,
    RequestDataset,
    RequestOrganization,
)
from ckanext.statrequest.model.types import TS, EncryptedText, new_id, now

__all__ = [
    "TS", "Attachment", "Complaint", "Counter", "EncryptedText", "Event", "Holiday",
    "IdentityAccess", "Notification", "Objection", "OpdTask", "OpenRequest", "OpenRequestWord", "Position",
    "Request", "RequestDataset", "RequestLanguage", "RequestOrganization", "SigningCredential",
    "Survey", "new_id", "now",
]
