"""Satisfaction survey (SKM, PermenPAN-RB 14/2017) and complaints (pengaduan).

Revision ID: 0004_feedback
Revises: 0003_notifications
Create Date: 2026-11-29
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0004_feedback"
down_revision = "0003_notifications"
branch_labels = None
depends_on = None

TS = sa.TIMESTAMP(timezone=True)
ELEMENTS = [f"u{n}" for n in range(1, 10)]


def upgrade() -> None:
    op.create_table(
        "statrequest_survey",
        sa.Column("id", sa.UnicodeText, primary_key=True),
        # one survey per request: the unique key also settles two concurrent submissions
        sa.Column("request_id", sa.UnicodeText,
                  sa.ForeignKey("statrequest_request.id", ondelete="CASCADE"),
                  nullable=False, unique=True),
        sa.Column("respondent_id", sa.UnicodeText, sa.ForeignKey("user.id"), nullable=True),
        *[sa.Column(u, sa.SmallInteger, nullable=False) for u in ELEMENTS],
        sa.Column("comment", sa.UnicodeText, nullable=False, server_default=""),
        sa.Column("created_at", TS, nullable=False),
        *[sa.CheckConstraint(f"{u} BETWEEN 1 AND 4", name=f"statrequest_survey_{u}_scale")
          for u in ELEMENTS],
    )

    op.create_table(
        "statrequest_complaint",
        sa.Column("id", sa.UnicodeText, primary_key=True),
        sa.Column("number", sa.UnicodeText, nullable=False, unique=True),
        # a complaint outlives the request it is about (e.g. after a purge)
        sa.Column("request_id", sa.UnicodeText,
                  sa.ForeignKey("statrequest_request.id", ondelete="SET NULL"), nullable=True),
        sa.Column("complainant_id", sa.UnicodeText, sa.ForeignKey("user.id"), nullable=False),
        sa.Column("subject", sa.UnicodeText, nullable=False),
        sa.Column("body", sa.UnicodeText, nullable=False),
        sa.Column("state", sa.UnicodeText, nullable=False),
        sa.Column("response", sa.UnicodeText, nullable=False, server_default=""),
        sa.Column("responded_by", sa.UnicodeText, sa.ForeignKey("user.id"), nullable=True),
        sa.Column("responded_at", TS, nullable=True),
        sa.Column("closed_at", TS, nullable=True),
        # every response and state change, oldest first: [{at, by, state, response}]
        sa.Column("history", JSONB, nullable=False, server_default="[]"),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.CheckConstraint("state IN ('diterima', 'ditanggapi', 'selesai')",
                           name="statrequest_complaint_state"),
    )
    op.create_index("statrequest_complaint_complainant_idx", "statrequest_complaint",
                    ["complainant_id", "created_at"])
    op.create_index("statrequest_complaint_state_idx", "statrequest_complaint",
                    ["state", "created_at"])
    op.create_index("statrequest_complaint_request_idx", "statrequest_complaint",
                    ["request_id"])
    # the statistics select requests by the day they were received
    op.create_index("statrequest_request_received_idx", "statrequest_request", ["received_at"])


def downgrade() -> None:
    op.drop_index("statrequest_request_received_idx", table_name="statrequest_request")
    op.drop_table("statrequest_complaint")
    op.drop_table("statrequest_survey")
