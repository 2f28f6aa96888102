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


@statrequest.command("workflow-check")
@click.argument("path", type=click.Path(dir_okay=False))
def workflow_check(path: str) -> None:
    """Validate a workflow YAML file; every problem is listed."""
    from ckanext.statrequest.core.workflow import check_file

    problems = check_file(path)
    if problems:
        for problem in problems:
            click.secho(f"- {problem}", fg="red", err=True)
        raise click.exceptions.Exit(1)
    click.secho(f"{path}: valid workflow", fg="green")


@statrequest.command("init-test-pki")
@click.option("--dir", "directory", default=None, help="Where to write (default: signing.pki_dir).")
def init_test_pki(directory: str | None) -> None:
    """Create a TEST certificate authority and one PKCS#12 key per signing position.

    For demos and tests only: the keys' passphrase is public. The certificates carry the
    names and NIP of the officials who hold the positions now, when there are any.
    """
    from ckanext.statrequest import letters
    from ckanext.statrequest.documents.testpki import DEFAULT_PASSPHRASE, create_test_pki

    identities = {}
    for position in letters.FIELDS:
        user, row = letters.holder(position)
        if user is not None and row is not None and row.nip:
            identities[position] = (user.fullname or user.name, row.nip)
    target = directory or str(letters.pki_dir())
    manifest = create_test_pki(target, positions=tuple(letters.FIELDS), identities=identities)
    click.echo(f"Test PKI in {target} (passphrase: {DEFAULT_PASSPHRASE})")
    for position, signer in manifest["signers"].items():
        click.echo(f"  {position:<14} {signer['name']}  {signer['p12']}")


def _load_commands() -> None:
    """Area modules in commands/ add their sub-commands to the group when imported."""
    import importlib
    import pkgutil

    from ckanext.statrequest import commands

    for module in pkgutil.iter_modules(commands.__path__):
        importlib.import_module(f"{commands.__name__}.{module.name}")


_load_commands()
