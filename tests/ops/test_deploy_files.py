"""The files of deploy/ are valid for the tools that read them (#16): gunicorn's settings,
supervisor's programs, the systemd units and timers, nginx's site (`nginx -t` with the
placeholders filled in). The processes themselves run in test_worker_supervisor.py (workers
under supervisor) and in the scale run (gunicorn with deploy/gunicorn.conf.py)."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
BIN = Path(sys.executable).parent


def test_gunicorn_settings_come_from_the_environment():
    env = dict(os.environ, STATREQUEST_WEB_WORKERS="3", STATREQUEST_BIND="unix:/tmp/x.sock")
    # --print-config prints, then tries to load the app (CKAN_INI is not set here): only the
    # printed settings are read
    out = subprocess.run([str(BIN / "gunicorn"), "-c", str(DEPLOY / "gunicorn.conf.py"),
                          "--print-config"], env=env, capture_output=True, text=True,
                         check=False, timeout=60).stdout
    settings = {k.strip(): v.strip() for k, _, v in (line.partition("=")
                                                     for line in out.splitlines())}
    assert settings["workers"] == "3" and settings["bind"] == "['unix:/tmp/x.sock']"
    assert settings["wsgi_app"] == "wsgi:application"
    assert settings["pythonpath"] == str(DEPLOY)
    assert int(settings["timeout"]) >= 60 and int(settings["max_requests"]) > 0
    assert settings["preload_app"] == "False"


def test_supervisor_programs(tmp_path, monkeypatch):
    pytest.importorskip("supervisor")
    from supervisor.options import ServerOptions

    for name, value in dict(STATREQUEST_RUN=str(tmp_path), STATREQUEST_LOG=str(tmp_path),
                            STATREQUEST_VENV="/venv", STATREQUEST_DEPLOY=str(DEPLOY),
                            CKAN_INI="/etc/ckan/ckan.ini").items():
        monkeypatch.setenv(name, value)
    options = ServerOptions()
    options.realize(args=["-c", str(DEPLOY / "supervisor" / "supervisord.conf")])
    groups = {g.name: g.process_configs for g in options.process_group_configs}
    web, = groups["statrequest-web"]
    assert web.command == f"/venv/bin/gunicorn -c {DEPLOY}/gunicorn.conf.py"
    workers = groups["statrequest-worker"]
    assert len(workers) == 2
    for w in workers:
        assert w.command == "/venv/bin/ckan -c /etc/ckan/ckan.ini statrequest worker"
        assert w.autorestart is not False and w.startretries >= 100 and w.killasgroup


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="no systemd-analyze")
def test_systemd_units_and_timers(tmp_path):
    for unit in (DEPLOY / "systemd").iterdir():
        shutil.copy(unit, tmp_path / unit.name)
    names = sorted(p.name for p in tmp_path.iterdir())
    out = subprocess.run(["systemd-analyze", "verify", "--man=no", *names], cwd=tmp_path,
                         capture_output=True, text=True, check=False, timeout=120)
    problems = [line for line in (out.stdout + out.stderr).splitlines()
                if line.strip() and "is not executable: No such file" not in line]
    assert not problems, problems  # the install paths (/usr/lib/ckan/venv) are not here
    for timer in tmp_path.glob("*.timer"):
        calendar = next(line.split("=", 1)[1] for line in timer.read_text().splitlines()
                        if line.startswith("OnCalendar="))
        subprocess.run(["systemd-analyze", "calendar", calendar], capture_output=True,
                       check=True, timeout=30)
        unit = next(line.split("=", 1)[1] for line in timer.read_text().splitlines()
                    if line.startswith("Unit="))
        assert (tmp_path / unit.replace(unit[unit.find("@") + 1:unit.rfind(".")], "")
                if "@" in unit else tmp_path / unit).exists(), unit


@pytest.mark.skipif(shutil.which("nginx") is None and not Path("/usr/sbin/nginx").exists(),
                    reason="nginx is not installed (apt-get install nginx-light)")
def test_nginx_site(tmp_path):
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=portal.test", "-keyout", str(tmp_path / "key.pem"),
                    "-out", str(tmp_path / "cert.pem")], capture_output=True, check=True,
                   timeout=60)
    site = (DEPLOY / "nginx" / "statrequest.conf").read_text()
    assert "client_max_body_size" in site and "X-Forwarded-For" in site
    site = (site.replace("/etc/ssl/statrequest/PLACEHOLDER_fullchain.pem",
                         str(tmp_path / "cert.pem"))
            .replace("/etc/ssl/statrequest/PLACEHOLDER_privkey.pem", str(tmp_path / "key.pem"))
            .replace("PLACEHOLDER_SERVER_NAME", "portal.test"))
    assert not [line for line in site.splitlines()
                if "PLACEHOLDER" in line and not line.lstrip().startswith("#")]
    (tmp_path / "site.conf").write_text(site)
    (tmp_path / "nginx.conf").write_text(
        f"pid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/error.log;\nevents {{}}\n"
        f"http {{\n include /etc/nginx/mime.types;\n include {tmp_path}/site.conf;\n}}\n")
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    out = subprocess.run([nginx, "-t", "-c", str(tmp_path / "nginx.conf"), "-p",
                          str(tmp_path)], capture_output=True, text=True, check=False,
                         timeout=60)
    assert out.returncode == 0, out.stderr


def test_recommended_ckan_ini_settings_are_declared_and_used_by_the_scale_run():
    import configparser

    import yaml

    declared = {}
    for group in yaml.safe_load((ROOT / "ckanext/statrequest/config_declaration.yaml")
                                .read_text())["groups"]:
        for option in group["options"]:
            declared[option["key"]] = option
    parser = configparser.ConfigParser(interpolation=None)
    parser.read(DEPLOY / "statrequest.ini")
    settings = dict(parser["app:main"])
    assert settings, "deploy/statrequest.ini has no [app:main] settings"
    for key, value in settings.items():
        assert key in declared, f"{key} is not declared in config_declaration.yaml"
        if declared[key].get("type") == "int":
            int(value)
    # production's mail throughput (#16: >= 50 emails/s): batched, four senders a job
    assert int(settings["ckanext.statrequest.notify.batch_size"]) == 400
    assert int(settings["ckanext.statrequest.notify.batch_threads"]) == 4
    # ... and the scale run runs with them
    scale_ini = (ROOT / "bench/scale/stack.py").read_text()
    for key in ("ckanext.statrequest.notify.batch_size", "ckanext.statrequest.notify.batch_threads"):
        assert f"{key} = {settings[key]}\n" in scale_ini
