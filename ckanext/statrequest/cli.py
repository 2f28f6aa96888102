"""`ckan statrequest ...` commands."""
from __future__ import annotations

import ckantoolkit as tk
import click

__all__ = ["statrequest"]


@click.group(short_help="Permintaan Data Statistik Sektoral: administration commands.")
def statrequest() -> None:
    pass


@statrequest.command("demo-data")
@click.option("--password-file", type=click.Path(dir_okay=False, writable=True), default=None,
              help="Write the demo logins here.")
def demo_data(password_file: str | None) -> None:
    """Load the demo organisations, datasets, officials and requesters (idempotent)."""
    from ckanext.statrequest import demo

    site_user = tk.get_action("get_site_user")({"ignore_auth": True}, {})["name"]
    logins = demo.load(site_user)
    lines = [f"{name:<14} {demo.PASSWORD}   ({role})" for name, role in logins]
    if password_file:
        with open(password_file, "w", encoding="utf-8") as f:
            f.write("\n".join(lines) + "\n")
    else:
        click.echo("\n".join(lines))
