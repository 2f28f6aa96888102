"""Email outbox (exactly-once notifications) and the requester's language.

Revision ID: 0003_notifications
Revises: 0002_identity_access
Create Date: 2026-11-29
"""
import sqlalchemy as sa
from alembic import op

revision = "0003_notifications"
down_revision = "0002_identity_access"
branch_labels = None
depends_on = None

TS = sa.TIMESTAMP(timezone=True)


def upgrade() -> None:
    op.create_table(
        "statrequest_notification",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        # what caused it: "event:<event id>", "reminder:<request>:<day>", "escalation:..."
        sa.Column("event_key", sa.UnicodeText, nullable=False),
        # "user:<id>" or "email:<address>"
        sa.Column("recipient", sa.UnicodeText, nullable=False),
        sa.Column("kind", sa.UnicodeText, nullable=False),
        sa.Column("request_id", sa.UnicodeText,
                  sa.ForeignKey("statrequest_request.id", ondelete="CASCADE"), nullable=False),
        sa.Column("email", sa.UnicodeText, nullable=False),
        sa.Column("name", sa.UnicodeText, nullable=False, server_default=""),
        sa.Column("language", sa.UnicodeText, nullable=False),
        sa.Column("subject", sa.UnicodeText, nullable=False),
        sa.Column("body", sa.UnicodeText, nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("sent_at", TS, nullable=True),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("last_attempt_at", TS, nullable=True),
        sa.Column("last_error", sa.UnicodeText, nullable=True),
        # one message per cause, recipient and kind: a repeated signal or check adds nothing
        sa.UniqueConstraint("event_key", "recipient", "kind",
                            name="statrequest_notification_once_key"),
    )
    op.create_index("statrequest_notification_request_idx", "statrequest_notification",
                    ["request_id"])
    op.create_index("statrequest_notification_unsent_idx", "statrequest_notification",
                    ["created_at"], postgresql_where=sa.text("sent_at IS NULL"))

    op.create_table(
        "statrequest_request_language",
        sa.Column("request_id", sa.UnicodeText,
                  sa.ForeignKey("statrequest_request.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("language", sa.UnicodeText, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("statrequest_request_language")
    op.drop_table("statrequest_notification")
