"""Operations commands, meant for cron (a server clock in office time, e.g. WIB; on a UTC
clock write `0 1 * * 1-5` for 08:00 WIB):

    */10 * * * *  ckan -c /etc/ckan/ckan.ini statrequest notifications-flush
    0 8 * * 1-5   ckan -c /etc/ckan/ckan.ini statrequest sla-check
    0 7 * * 1-5   ckan -c /etc/ckan/ckan.ini statrequest digest
    30 2 * * *    ckan -c /etc/ckan/ckan.ini statrequest purge-personal-data

All three are safe to run more often: sla-check skips holidays and sends each reminder at most
once a working day. Emails need a worker with its scheduler (the default of `ckan jobs worker`
in CKAN 2.12) on ckanext.statrequest.notify.queue. Each command calls the matching action as
the site user, so the rules live in one place.
"""
from __future__ import annotations

from typing import Any

import click

from ckanext.statrequest.commands._common import call as _call


@click.command("notifications-flush")
@click.option("--min-age-minutes", type=click.IntRange(min=0), default=5, show_default=True,
              help="Leave emails queued more recently than this to their first job.")
def notifications_flush(min_age_minutes: int) -> None:
    """Queue again the emails that are still unsent (safe to run often)."""
    result = _call("statrequest_notifications_flush", min_age_minutes=min_age_minutes)
    click.echo(f"{result['enqueued']} unsent emails queued again; "
               f"{result['given_up']} older ones given up.")


@click.command("sla-check")
def sla_check() -> None:
    """Remind and escalate requests due soon or overdue (sends nothing twice a day)."""
    result = _call("statrequest_sla_check")
    click.echo(f"{result['checked']} requests due soon or overdue: {result['reminders']} "
               f"reminders and {result['escalations']} escalations queued; "
               f"{result.get('complaint_escalations', 0)} mails about overdue complaints; "
               f"{result.get('opd_reminders', 0)} agency task reminders and "
               f"{result.get('opd_escalations', 0)} agency task escalations.")


@click.command("digest")
def digest() -> None:
    """Mail each official the requests waiting for them (notify.officials = digest; once a
    working day, safe to run again)."""
    result = _call("statrequest_digest")
    if result["skipped"] == "each":
        click.echo("ckanext.statrequest.notify.officials is `each`: officials get one mail per "
                   "step, no digest.")
    elif result["skipped"]:
        click.echo(f"{result['day']} is not a working day: no digest.")
    else:
        click.echo(f"{result['queued']} digests queued for {result['day']} "
                   f"({result['officials']} officials checked).")


@click.command("purge-personal-data")
@click.option("--older-than", "older_than", type=click.IntRange(min=0), default=None,
              help="Days since the request was finished (default: ckanext.statrequest.retention_days).")
@click.option("--dry-run", is_flag=True, help="Only list the requests that would be purged.")
def purge_personal_data(older_than: int | None, dry_run: bool) -> None:
    """Remove identity documents, identity numbers, phone numbers and addresses of requests
    finished longer ago than the retention period."""
    data: dict[str, Any] = {"dry_run": dry_run}
    if older_than is not None:
        data["older_than_days"] = older_than
    result = _call("statrequest_purge_personal_data", **data)
    numbers = ", ".join(result["tracking_numbers"]) or "-"
    if dry_run:
        click.echo(f"Would purge {len(result['tracking_numbers'])} requests finished more than "
                   f"{result['older_than_days']} days ago: {numbers}")
        return
    click.echo(f"Purged the personal data of {result['purged']} requests finished more than "
               f"{result['older_than_days']} days ago: {numbers}")
    if result["failed"]:
        click.secho(f"{result['failed']} could not be purged; see the log.", fg="red", err=True)
        raise click.exceptions.Exit(1)
