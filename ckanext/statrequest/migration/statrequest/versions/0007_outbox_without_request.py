"""Outbox emails that are not about a request: the answer to a complaint about the service.

Revision ID: 0007_outbox_without_request
Revises: 0006_signing_people
Create Date: 2026-12-03
"""
import sqlalchemy as sa
from alembic import op

revision = "0007_outbox_without_request"
down_revision = "0006_signing_people"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.alter_column("statrequest_notification", "request_id", existing_type=sa.UnicodeText,
                    nullable=True)


def downgrade() -> None:
    op.execute("DELETE FROM statrequest_notification WHERE request_id IS NULL")
    op.alter_column("statrequest_notification", "request_id", existing_type=sa.UnicodeText,
                    nullable=False)
