"""One task per OPD a request is routed to: each with its own status, deadline, reminder and
escalation (issue #12, parallel OPD tasks).

`status` is asked | answered | no_data | closed (closed by staff, with a reason); overdue is
not stored: a task still asked after its `due`. Backfill: one task per OPD already routed; a
request still in the state its latest routing led to waits for it (asked), any other was
answered when the request next moved on.

Revision ID: 0012_opd_tasks
Revises: 0011_counter_complaints
Create Date: 2026-12-03
"""
import sqlalchemy as sa
from alembic import op

revision = "0012_opd_tasks"
down_revision = "0011_counter_complaints"
branch_labels = None
depends_on = None

TABLE = "statrequest_opd_task"
TS = sa.TIMESTAMP(timezone=True)


def upgrade() -> None:
    op.create_table(
        TABLE,
        sa.Column("request_id", sa.UnicodeText,
                  sa.ForeignKey("statrequest_request.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("organization_id", sa.UnicodeText,
                  sa.ForeignKey("group.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("status", sa.UnicodeText, nullable=False, server_default="asked"),
        sa.Column("asked_at", TS, nullable=False),
        sa.Column("due", TS, nullable=True),
        sa.Column("answered_at", TS, nullable=True),
        sa.Column("reminded_at", TS, nullable=True),
        sa.Column("escalated_at", TS, nullable=True),
        sa.Column("closed_at", TS, nullable=True),
        sa.Column("closed_reason", sa.UnicodeText, nullable=False, server_default=""),
        sa.Column("closed_by", sa.UnicodeText, sa.ForeignKey("user.id"), nullable=True),
        sa.CheckConstraint("status IN ('asked', 'answered', 'no_data', 'closed')",
                           name="statrequest_opd_task_status"),
    )
    # the SLA check: open tasks by deadline; the statistics: per OPD
    op.create_index("statrequest_opd_task_open_idx", TABLE, ["due"],
                    postgresql_where=sa.text("status = 'asked'"))
    op.create_index("statrequest_opd_task_org_idx", TABLE, ["organization_id", "status"])
    op.execute("""
        INSERT INTO statrequest_opd_task (request_id, organization_id, status, asked_at, due,
                                          answered_at)
        SELECT o.request_id, o.organization_id,
               CASE WHEN r.state = routed.to_state THEN 'asked' ELSE 'answered' END,
               COALESCE(o.routed_at, routed.created_at, r.created_at),
               r.sla_due_at,
               CASE WHEN r.state = routed.to_state THEN NULL ELSE (
                   SELECT min(n.created_at) FROM statrequest_event n
                   WHERE n.request_id = o.request_id AND n.id > routed.id) END
        FROM statrequest_request_org o
        JOIN statrequest_request r ON r.id = o.request_id
        LEFT JOIN LATERAL (
            SELECT e.id, e.to_state, e.created_at FROM statrequest_event e
            WHERE e.request_id = o.request_id AND e.data ? 'opd'
            ORDER BY e.id DESC LIMIT 1) routed ON true
        WHERE o.routed
    """)


def downgrade() -> None:
    op.drop_table(TABLE)
