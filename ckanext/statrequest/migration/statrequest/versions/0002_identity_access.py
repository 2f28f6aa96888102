"""Record every view of an identity document; letter number and verification code.

Revision ID: 0002_identity_access
Revises: 0001_initial
Create Date: 2026-11-29
"""
import sqlalchemy as sa
from alembic import op

revision = "0002_identity_access"
down_revision = "0001_initial"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "statrequest_identity_access",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("attachment_id", sa.UnicodeText, nullable=False),
        sa.Column("request_id", sa.UnicodeText, sa.ForeignKey("statrequest_request.id", ondelete="CASCADE"), nullable=False),
        sa.Column("user_id", sa.UnicodeText, sa.ForeignKey("user.id"), nullable=True),
        sa.Column("accessed_at", sa.TIMESTAMP(timezone=True), nullable=False),
    )
    op.create_index("statrequest_identity_access_request_idx", "statrequest_identity_access", ["request_id"])
    op.add_column("statrequest_request", sa.Column("letter_number", sa.UnicodeText, nullable=True, unique=True))
    op.add_column("statrequest_request", sa.Column("letter_attachment_id", sa.UnicodeText, nullable=True))
    op.add_column("statrequest_request", sa.Column("verification_code", sa.UnicodeText, nullable=True, unique=True))
    op.add_column("statrequest_position", sa.Column("nip", sa.UnicodeText, nullable=False, server_default=""))
    op.add_column("statrequest_request", sa.Column("delivered_package_id", sa.UnicodeText, nullable=True))


def downgrade() -> None:
    for column in ("delivered_package_id", "verification_code", "letter_attachment_id", "letter_number"):
        op.drop_column("statrequest_request", column)
    op.drop_column("statrequest_position", "nip")
    op.drop_table("statrequest_identity_access")
