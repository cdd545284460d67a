"""The files of deploy/, checked by the tools themselves; the lock file against pyproject.toml."""

from __future__ import annotations

import re
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tests.conftest import ROOT

DEPLOY = ROOT / "deploy"
UNITS = ["moja-opstina.service", "moja-opstina-backup.service", "moja-opstina-backup.timer"]
SITE = DEPLOY / "nginx-moja-opstina.conf"
# Where `make test` unpacks Debian's nginx when the machine has none (deploy/get-check-tools).
FETCHED_NGINX = ROOT / ".venv" / "deploy-tools" / "usr" / "sbin" / "nginx"


def unit_settings(name: str) -> dict[str, list[str]]:
    """The settings of a unit file, each key with its values in order."""
    found: dict[str, list[str]] = {}
    for line in (DEPLOY / name).read_text(encoding="utf-8").splitlines():
        if "=" in line and not line.startswith(("#", "[")):
            key, _, value = line.partition("=")
            found.setdefault(key, []).append(value)
    return found


def verify_units(folder: Path) -> subprocess.CompletedProcess[str]:
    """``systemd-analyze verify`` over the units in ``folder``."""
    return subprocess.run(
        ["systemd-analyze", "verify", "--man=no", *(str(folder / u) for u in UNITS)],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


@pytest.mark.skipif(
    shutil.which("systemd-analyze") is None,
    reason="systemd-analyze is not installed (make test installs it with apt-get when root)",
)
def test_the_systemd_units_pass_systemd_analyze_verify(tmp_path: Path) -> None:
    # verify checks that each command exists: point the install folder at this checkout.
    for unit in UNITS:
        text = (DEPLOY / unit).read_text(encoding="utf-8")
        (tmp_path / unit).write_text(text.replace("/opt/moja-opstina", str(ROOT)))
    assert (ROOT / ".venv" / "bin" / "moja-opstina").exists()

    done = verify_units(tmp_path)

    assert done.returncode == 0, done.stderr
    assert done.stderr == ""  # not even a warning (an unknown key is only a warning)
    with (tmp_path / UNITS[0]).open("a") as broken:
        broken.write("Restart=sometimes\n")
    assert "Restart" in verify_units(tmp_path).stderr


def test_the_service_runs_as_its_own_user_restarts_and_keeps_secrets_apart() -> None:
    service = unit_settings("moja-opstina.service")

    assert service["User"] == ["moja-opstina"]
    assert service["Restart"] == ["on-failure"]
    assert service["RestartPreventExitStatus"] == ["2"]  # what the bot exits with on bad settings
    assert service["EnvironmentFile"] == ["/etc/moja-opstina/env"]
    assert service["StateDirectory"] == ["moja-opstina"]
    assert service["StateDirectoryMode"] == ["0750"]
    assert "BOT_DATA_DIR=/var/lib/moja-opstina" in service["Environment"][0]
    assert service["ProtectSystem"] == ["strict"]
    backup = unit_settings("moja-opstina-backup.service")
    assert backup["User"] == ["moja-opstina"]
    assert "db backup /var/backups/moja-opstina/" in backup["ExecStart"][0]


def nginx_binary() -> str | None:
    """Debian's nginx: installed, or fetched by ``make test``."""
    return shutil.which("nginx") or (str(FETCHED_NGINX) if FETCHED_NGINX.exists() else None)


def nginx_test(nginx: str, folder: Path, site: str) -> subprocess.CompletedProcess[str]:
    """``nginx -t`` over the site inside a minimal main configuration, all under ``folder``."""
    (folder / "site.conf").write_text(site)
    temp = "\n".join(
        f"    {kind}_temp_path {folder / kind};"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    (folder / "nginx.conf").write_text(
        f"pid {folder / 'nginx.pid'};\nerror_log stderr;\nevents {{}}\n"
        f"http {{\n    access_log off;\n{temp}\n    include {folder / 'site.conf'};\n}}\n"
    )
    return subprocess.run(
        [nginx, "-t", "-p", str(folder), "-c", str(folder / "nginx.conf"), "-e", "stderr"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip


@pytest.mark.skipif(nginx_binary() is None, reason="no nginx (make test fetches Debian's)")
@pytest.mark.skipif(shutil.which("openssl") is None, reason="no openssl to make a test certificate")
def test_the_nginx_site_passes_nginx_t(tmp_path: Path) -> None:
    nginx = nginx_binary()
    assert nginx is not None
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
         "-subj", "/CN=bot.example.org", "-keyout", str(tmp_path / "key.pem"),
         "-out", str(tmp_path / "cert.pem")],
        capture_output=True, timeout=60, check=True,
    )  # fmt: skip
    live = "/etc/letsencrypt/live/bot.example.org"
    site = (
        SITE.read_text(encoding="utf-8")
        .replace(f"{live}/fullchain.pem", str(tmp_path / "cert.pem"))
        .replace(f"{live}/privkey.pem", str(tmp_path / "key.pem"))
    )

    done = nginx_test(nginx, tmp_path, site)

    assert done.returncode == 0, done.stderr
    assert "test is successful" in done.stderr
    broken = nginx_test(nginx, tmp_path, site.replace("client_max_body_size 2m;", "body_size 2m;"))
    assert broken.returncode != 0
    assert 'unknown directive "body_size"' in broken.stderr


def test_the_nginx_site_fits_the_bot() -> None:
    site = SITE.read_text(encoding="utf-8")

    assert "server 127.0.0.1:8080;" in site  # HTTP_HOST and HTTP_PORT's defaults
    assert "client_max_body_size 2m;" in site  # the bot's web server refuses more
    assert re.search(r"location = /metrics \{[^}]*deny all;", site)
    assert "listen 443 ssl" in site


def test_the_lock_pins_every_dependency_within_its_range() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    wanted = [
        *project["project"]["dependencies"],
        *project["project"]["optional-dependencies"]["dev"],
        *project["build-system"]["requires"],
    ]
    pinned = {
        canonicalize_name(name): version
        for name, version in re.findall(
            r"^([A-Za-z0-9._-]+)==(\S+)", (ROOT / "requirements.lock").read_text(), re.MULTILINE
        )
    }

    for line in wanted:
        requirement = Requirement(line)
        name = canonicalize_name(requirement.name)
        assert name in pinned, f"{name} is not in requirements.lock: run make lock"
        assert requirement.specifier.contains(pinned[name]), f"{name}=={pinned[name]}: make lock"


def test_the_guide_names_every_deploy_file() -> None:
    guide = (ROOT / "docs" / "operations.md").read_text(encoding="utf-8")

    for path in DEPLOY.iterdir():
        if path.name != "get-check-tools":
            assert path.name in guide, path.name
