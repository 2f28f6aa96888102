"""`ckan statrequest deliver`: (re)start the delivery of finished requests."""
from __future__ import annotations

import click


@click.command("deliver")
@click.option("--request", "request_ref", default=None,
              help="Request id or tracking number.")
@click.option("--pending", is_flag=True,
              help="Every finished request with a signed reply that is not delivered yet.")
@click.option("--now", is_flag=True,
              help="Deliver in this process instead of enqueueing a background job.")
def deliver(request_ref: str | None, pending: bool, now: bool) -> None:
    """Create (or complete) the private dataset of finished requests.

    Safe to repeat: a delivered request is completed, never duplicated.
    """
    from ckanext.statrequest.lib import delivery, records

    if bool(request_ref) == pending:
        raise click.UsageError("Give either --request ID or --pending.")
    if request_ref:
        request = records.find_request(request_ref)
        if request is None:
            raise click.ClickException(f"no request {request_ref!r}")
        ids = [request.id]
    else:
        ids = delivery.pending()
    for request_id in ids:
        if now:
            package_id = delivery.deliver(request_id)
            click.echo(f"{request_id}: " + (f"delivered as dataset {package_id}" if package_id
                                            else "nothing to deliver (no signed reply)"))
        else:
            job = delivery.enqueue(request_id)
            click.echo(f"{request_id}: job {job.id} enqueued")
    if not ids:
        click.echo("Nothing to deliver.")
