"""Every OPD a request was routed to has a task (#16, the OPD inbox at a million requests).

A request routed where no task was asked (routed before tasks existed, or by a workflow
step into a state where no OPD answers) was listed in the OPD's inbox by a second branch,
"has no task at all", which PostgreSQL checked on every request waiting for an OPD (2,510
probes, 18 ms at 1M) and which let it hash all 116k links of the OPD (100+ ms). From here on
a task exists for every routed OPD (lib/opd_tasks.ask_again asks the routed OPD of a request
that has none); this fills in the missing ones as 0012_opd_tasks did: asked if the request
still waits in the state the routing put it in, else answered when the next step came.

Revision ID: 0018_task_per_routed_opd
Revises: 0017_open_search_index
Create Date: 2026-12-03
"""
from alembic import op

revision = "0018_task_per_routed_opd"
down_revision = "0017_open_search_index"
branch_labels = None
depends_on = None


def upgrade() -> None:
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
        WHERE o.routed AND NOT EXISTS (
            SELECT 1 FROM statrequest_opd_task t WHERE t.request_id = o.request_id)
    """)


def downgrade() -> None:
    pass  # the tasks added are true to the event log; keeping them changes nothing
