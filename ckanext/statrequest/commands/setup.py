"""Setting a portal up: demo data, checking a workflow file, a test PKI."""
from __future__ import annotations

import click

from ckanext.statrequest import settings
from ckanext.statrequest.commands._common import site_user


@click.command("demo-data")
@click.option("--password-file", type=click.Path(dir_okay=False, writable=True), default=None,
              help="Write the demo logins here.")
def demo_data(password_file: str | None) -> None:
    """Load the demo organisations, datasets, officials and requesters (idempotent)."""
    from ckanext.statrequest.lib import demo

    logins = demo.load(site_user())
    lines = [f"{name:<14} {demo.PASSWORD}   ({role})" for name, role in logins]
    if password_file:
        with open(password_file, "w", encoding="utf-8") as f:
            f.write("\n".join(lines) + "\n")
    else:
        click.echo("\n".join(lines))


@click.command("workflow-check")
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


@click.command("init-test-pki")
@click.option("--dir", "directory", default=None, help="Where to write (default: signing.pki_dir).")
def init_test_pki(directory: str | None) -> None:
    """Create a TEST certificate authority and one PKCS#12 key per signing PERSON.

    For demos and tests only: the keys' passphrase is public. Everyone who holds or is
    appointed to a signing position (definitive, Plt, Plh) gets a certificate in their own
    name and NIP, registered as their signing credential (keys belong to people).
    """
    from ckanext.statrequest.documents.testpki import DEFAULT_PASSPHRASE, create_test_pki
    from ckanext.statrequest.lib import letters

    people = letters.signing_people()
    identities = {
        name: (user.fullname or user.name, row.nip or "0" * 18, letters.position_title(row.position))
        for name, (user, row) in people.items()}
    target = directory or str(letters.pki_dir())
    # no officials yet: one key per signing position
    labels = tuple(people) or tuple(dict.fromkeys(letters.fields().values()))
    # with signing.test_pki_url: a PKI whose OCSP/CRL/TSA addresses point at the local service
    # that dev/services.sh runs (certomancer animate), for timestamps and revocation data
    manifest = create_test_pki(target, positions=labels, identities=identities,
                               responder_url=settings.get("signing.test_pki_url") or None)
    registered = set(letters.register_test_credentials(manifest, site_user()))
    click.echo(f"Test PKI in {target} (passphrase: {DEFAULT_PASSPHRASE})")
    for label, signer in manifest["signers"].items():
        note = "  (credential registered)" if label in registered else ""
        click.echo(f"  {label:<14} {signer['name']}  {signer['p12']}{note}")
