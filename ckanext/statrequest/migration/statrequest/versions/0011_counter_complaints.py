"""Complaints received at the counter or by letter, with a response deadline and escalation.

A complaint made in person, by letter, email or phone is recorded by the front desk for a
complainant who may have no account: their name and contact are kept on the complaint. Every
complaint gets a due date (working days); the SLA check escalates an unanswered one once.

Revision ID: 0011_counter_complaints
Revises: 0010_objection
Create Date: 2026-12-03
"""
import sqlalchemy as sa
from alembic import op

revision = "0011_counter_complaints"
down_revision = "0010_objection"
branch_labels = None
depends_on = None

TABLE = "statrequest_complaint"
TS = sa.TIMESTAMP(timezone=True)


def upgrade() -> None:
    op.alter_column(TABLE, "complainant_id", nullable=True)
    op.add_column(TABLE, sa.Column("complainant_name", sa.UnicodeText, nullable=False,
                                   server_default=""))
    op.add_column(TABLE, sa.Column("complainant_email", sa.UnicodeText, nullable=False,
                                   server_default=""))
    op.add_column(TABLE, sa.Column("complainant_phone", sa.UnicodeText, nullable=False,
                                   server_default=""))
    # online complaints so far all came through the portal
    op.add_column(TABLE, sa.Column("channel", sa.UnicodeText, nullable=False,
                                   server_default="portal"))
    op.add_column(TABLE, sa.Column("received_by", sa.UnicodeText, sa.ForeignKey("user.id"),
                                   nullable=True))
    op.add_column(TABLE, sa.Column("received_at", TS, nullable=True))
    op.add_column(TABLE, sa.Column("due_at", TS, nullable=True))
    op.add_column(TABLE, sa.Column("escalated_at", TS, nullable=True))
    op.execute("UPDATE statrequest_complaint SET received_at = created_at")
    # an account, or a name with a way to reach the person
    op.create_check_constraint(
        "statrequest_complaint_contact", TABLE,
        "complainant_id IS NOT NULL OR (complainant_name <> '' AND "
        "(complainant_email <> '' OR complainant_phone <> ''))")
    # the SLA check looks for unanswered complaints past their due date
    op.create_index("statrequest_complaint_due_idx", TABLE, ["state", "due_at"])


def downgrade() -> None:
    op.drop_index("statrequest_complaint_due_idx", table_name=TABLE)
    op.drop_constraint("statrequest_complaint_contact", TABLE, type_="check")
    # counter complaints without an account cannot be kept in the older schema
    op.execute("DELETE FROM statrequest_complaint WHERE complainant_id IS NULL")
    for name in ("escalated_at", "due_at", "received_at", "received_by", "channel",
                 "complainant_phone", "complainant_email", "complainant_name"):
        op.drop_column(TABLE, name)
    op.alter_column(TABLE, "complainant_id", nullable=False)
