"""Objections (keberatan) against a refusal or a late answer, and their decision letters.

Revision ID: 0010_objection
Revises: 0009_corrections_extension
Create Date: 2026-12-03
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0010_objection"
down_revision = "0009_corrections_extension"
branch_labels = None
depends_on = None

TS = sa.TIMESTAMP(timezone=True)


def upgrade() -> None:
    op.create_table(
        "statrequest_objection",
        sa.Column("id", sa.UnicodeText, primary_key=True),
        # one objection per request: the unique key also settles two concurrent filings
        sa.Column("request_id", sa.UnicodeText,
                  sa.ForeignKey("statrequest_request.id", ondelete="CASCADE"),
                  nullable=False, unique=True),
        sa.Column("state", sa.UnicodeText, nullable=False),
        sa.Column("grounds", JSONB, nullable=False, server_default="[]"),
        sa.Column("reason", sa.UnicodeText, nullable=False),
        sa.Column("filed_by", sa.UnicodeText, sa.ForeignKey("user.id"), nullable=True),
        sa.Column("filed_at", TS, nullable=False),
        sa.Column("due_at", TS, nullable=False),
        sa.Column("decision", sa.UnicodeText, nullable=True),
        sa.Column("decision_reason", sa.UnicodeText, nullable=False, server_default=""),
        sa.Column("decided_by", sa.UnicodeText, sa.ForeignKey("user.id"), nullable=True),
        sa.Column("decided_at", TS, nullable=True),
        sa.Column("letter_number", sa.UnicodeText, nullable=True, unique=True),
        sa.Column("letter_attachment_id", sa.UnicodeText, nullable=True),
        sa.Column("verification_code", sa.UnicodeText, nullable=True, unique=True),
        # overdue reminders already sent (working days late), so each is sent once
        sa.Column("escalated_days", sa.Integer, nullable=False, server_default="0"),
        sa.CheckConstraint("decision IS NULL OR decision IN ('diterima', 'ditolak')",
                           name="statrequest_objection_decision"),
    )
    op.create_index("statrequest_objection_open_idx", "statrequest_objection",
                    ["state", "due_at"])


def downgrade() -> None:
    op.drop_index("statrequest_objection_open_idx", table_name="statrequest_objection")
    op.drop_table("statrequest_objection")
