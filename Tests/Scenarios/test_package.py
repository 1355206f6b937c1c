"""The Debian package: its metadata and layout, and its binary running the
simulated board from an unpacked scratch root. $ATAD_DEB names the .deb;
without it these tests fail (make builds it first)."""

import os
import subprocess
from pathlib import Path

import pytest

from conftest import Daemon, write_site

DEB = os.environ.get("ATAD_DEB", "")


@pytest.fixture(scope="module")
def deb():
    assert DEB and Path(DEB).is_file(), f"ATAD_DEB must name the built package (got {DEB!r}); run `make deb`"
    return Path(DEB)


def dpkg_deb(*args):
    return subprocess.run(["dpkg-deb", *args], capture_output=True, text=True, check=True, timeout=60).stdout


def test_control_fields(deb):
    info = dpkg_deb("--info", str(deb))
    assert "Package: atad" in info
    arch = deb.name.rsplit("_", 1)[1].removesuffix(".deb")
    assert f"Architecture: {arch}" in info
    depends = next(line for line in info.splitlines() if line.strip().startswith("Depends:"))
    assert "libc6" in depends and "adduser" in depends, depends
    assert "conffiles" in info and "postinst" in info


# What the firmware may load: spandsp is linked in from its static archive
# (Cross/pkgconfig-static), so neither libspandsp2 nor the fax chain behind
# it (libtiff, libjpeg, libstdc++ ...) may come back as a dependency.
ALLOWED_DEPENDS = {"libc6", "libasound2", "libgpiod2", "libssl3", "libc-ares2", "libgcc-s1", "adduser"}


def test_depends_only_on_the_libraries_the_product_uses(deb):
    info = dpkg_deb("--info", str(deb))
    depends = next(line for line in info.splitlines() if line.strip().startswith("Depends:"))
    packages = {part.strip().split()[0] for part in depends.split(":", 1)[1].split(",")}
    assert packages <= ALLOWED_DEPENDS, f"unexpected dependencies {sorted(packages - ALLOWED_DEPENDS)}: {depends}"
    assert len(packages - {"libc6", "adduser"}) <= 6, depends


def test_layout(deb):
    contents = dpkg_deb("--contents", str(deb))
    paths = {line.split()[-1] for line in contents.splitlines()}
    for path in ["./usr/sbin/atad", "./etc/atad/atad.conf", "./usr/share/atad/boards/sim.conf",
                 "./usr/share/atad/boards/rpi-ag1171.conf", "./usr/share/atad/boards/template.conf",
                 "./lib/systemd/system/atad.service", "./usr/lib/tmpfiles.d/atad.conf"]:
        assert path in paths, f"{path} missing from the package:\n{contents}"
    mode = next(line.split()[0] for line in contents.splitlines() if line.endswith("./usr/sbin/atad"))
    assert mode == "-rwxr-xr-x", mode


def test_conffiles_and_unit(deb, tmp_path):
    control = tmp_path / "control"
    subprocess.run(["dpkg-deb", "-e", str(deb), str(control)], check=True, timeout=60)
    assert (control / "conffiles").read_text().split() == ["/etc/atad/atad.conf"]
    root = tmp_path / "root"
    subprocess.run(["dpkg-deb", "-x", str(deb), str(root)], check=True, timeout=60)
    unit = (root / "lib/systemd/system/atad.service").read_text()
    for line in ["Type=notify", "Restart=on-failure", "User=atad", "SupplementaryGroups=gpio audio",
                 "ProtectSystem=strict", "ProtectHome=yes", "NoNewPrivileges=yes", "RuntimeDirectory=atad", "StateDirectory=atad",
                 "ExecStart=/usr/sbin/atad run --config /etc/atad/atad.conf --syslog",
                 "ExecStopPost=-/usr/sbin/atad safe --config /etc/atad/atad.conf"]:
        assert line in unit.splitlines(), f"{line} not in the unit"


def test_installed_binary_runs_the_simulated_board(deb, tmp_path, short_dir, daemons):
    arch = deb.name.rsplit("_", 1)[1].removesuffix(".deb")
    root = tmp_path / "root"
    subprocess.run(["dpkg-deb", "-x", str(deb), str(root)], check=True, timeout=60)
    binary = root / "usr/sbin/atad"
    prefix = []
    if arch != "amd64":
        # The ARM package's binary runs under qemu with the build's sysroot.
        repo = Path(__file__).resolve().parents[2]
        prefix = ["bash", str(repo / "Cross/run-qemu.sh"), arch]
    env = dict(os.environ, ATAD_BIN=str(binary))
    for board in sorted((root / "usr/share/atad/boards").glob("*.conf")):
        result = subprocess.run([*prefix, str(binary), "check-config", str(board)] if not prefix
                                else [*prefix, "check-config", str(board)],
                                capture_output=True, text=True, timeout=60, env=env)
        assert result.returncode == 0, (board, result.stderr)
    if prefix:
        return
    control = short_dir / "control.sock"
    site = write_site(tmp_path / "site.conf", control, board=root / "usr/share/atad/boards/sim.conf")
    daemon = Daemon(site, control, tmp_path)
    daemon.process = subprocess.Popen([str(binary), "run", "--config", str(site)],
                                      stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                      stderr=open(daemon.log_path, "wb"), start_new_session=True)
    try:
        daemon.wait_ready()
        status = subprocess.run([str(binary), "ctl", "--socket", str(control), "status"],
                                capture_output=True, text=True, timeout=10)
        assert status.returncode == 0 and "line 1: idle" in status.stdout, status
    finally:
        daemon.stop()
