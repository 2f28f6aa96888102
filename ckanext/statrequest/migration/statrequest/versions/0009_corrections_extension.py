"""Corrections of a request's fields and the one-time deadline extension.

Corrections are events only (no column). The extension is kept on the request, because every
recomputation of the deadline (a resumed clock, a changed holiday list) must include it.

Revision ID: 0009_corrections_extension
Revises: 0008_reception_register
Create Date: 2026-12-03
"""
import sqlalchemy as sa
from alembic import op

revision = "0009_corrections_extension"
down_revision = "0008_reception_register"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("statrequest_request", sa.Column(
        "extension_days", sa.Integer, nullable=False, server_default="0"))
    op.add_column("statrequest_request", sa.Column(
        "extended_at", sa.TIMESTAMP(timezone=True), nullable=True))


def downgrade() -> None:
    op.drop_column("statrequest_request", "extended_at")
    op.drop_column("statrequest_request", "extension_days")
