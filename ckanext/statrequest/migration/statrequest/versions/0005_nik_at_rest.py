"""Identity numbers (NIK) encrypted at rest, with a keyed hash for exact look-up; the
identity-access log also records views of the full NIK.

Revision ID: 0005_nik_at_rest
Revises: 0004_feedback
Create Date: 2026-12-02

The data step reads ckanext.statrequest.personal_data_key from the CKAN configuration the
migration runs under (`ckan -c ckan.ini db upgrade`). The column stays `text`: ciphertext of a
16-digit NIK is about 70 characters, and `text` has no length limit to widen.
"""
import sqlalchemy as sa
from alembic import op

from ckanext.statrequest.model import crypto

revision = "0005_nik_at_rest"
down_revision = "0004_feedback"
branch_labels = None
depends_on = None

BATCH = 1000


def _rewrite(convert) -> None:
    """Apply `convert(value) -> (stored, hash)` to every stored identity number, in batches
    (a portal may hold 100k requests), inside the migration's transaction."""
    conn = op.get_bind()
    rows = conn.execute(sa.text(
        "SELECT id, identity_number FROM statrequest_request WHERE identity_number IS NOT NULL"
    )).all()
    update = sa.text("UPDATE statrequest_request SET identity_number = :value, "
                     "identity_number_hash = :hash WHERE id = :id")
    batch = []
    for row_id, value in rows:
        stored, hashed = convert(value)
        batch.append({"id": row_id, "value": stored, "hash": hashed})
        if len(batch) >= BATCH:
            conn.execute(update, batch)
            batch = []
    if batch:
        conn.execute(update, batch)


def _encrypt(value: str) -> tuple[str, str | None]:
    clear = crypto.decrypt(value) if crypto.is_encrypted(value) else value
    return crypto.encrypt(clear), crypto.lookup_hash(clear)


def _decrypt(value: str) -> tuple[str, None]:
    return (crypto.decrypt(value) if crypto.is_encrypted(value) else value), None


def upgrade() -> None:
    crypto.check_configuration()  # refuse before changing anything when the key is missing
    op.add_column("statrequest_request",
                  sa.Column("identity_number_hash", sa.UnicodeText, nullable=True))
    op.create_index("statrequest_request_nik_hash_idx", "statrequest_request",
                    ["identity_number_hash"])
    _rewrite(_encrypt)

    op.add_column("statrequest_identity_access",
                  sa.Column("kind", sa.UnicodeText, nullable=False, server_default="document"))
    op.alter_column("statrequest_identity_access", "attachment_id", nullable=True)


def downgrade() -> None:
    crypto.check_configuration()
    op.execute("DELETE FROM statrequest_identity_access WHERE attachment_id IS NULL")
    op.alter_column("statrequest_identity_access", "attachment_id", nullable=False)
    op.drop_column("statrequest_identity_access", "kind")

    _rewrite(_decrypt)
    op.drop_index("statrequest_request_nik_hash_idx", "statrequest_request")
    op.drop_column("statrequest_request", "identity_number_hash")
