#!/usr/bin/env python3
"""Checks the artefacts scripts/wheels built, instead of assuming them:

    scripts/check-wheels.py DIST_DIR COMPONENT.wasm
    scripts/check-wheels.py --embeds WHEEL COMPONENT.wasm   # a wheel pip built from the sdist

- `auditwheel show` (PyPI `auditwheel`) finds each wheel consistent with the platform
  tag its name claims;
- each wheel's host program is an ELF for the wheel's machine (x86_64, aarch64 or armv7l),
  stripped (no symbol table), and holds COMPONENT.wasm byte for byte: the component is
  portable, so every platform embeds the same bytes;
- each wheel holds the plugin's Python files, its template, the host and the
  metadata (with maturin's software bill of materials), and nothing else (no tests,
  no build leftovers);
- the sdist carries the same component as `host/prebuilt/rules.wasm`.

Prints one line per artefact with its size; exits 1 on the first problem.
"""

from __future__ import annotations

import re
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

MACHINES = {"x86_64": 62, "aarch64": 183, "armv7l": 40}  # ELF e_machine
ALLOWED = re.compile(
    r"^(datasette_litestream/[a-z_]+\.py"
    r"|datasette_litestream/templates/[a-z_]+\.html"
    r"|datasette_litestream-[^/]+\.dist-info/[^/]+"
    r"|datasette_litestream-[^/]+\.dist-info/licenses/[^/]+"
    # maturin's CycloneDX bill of materials of the Rust crates inside (PEP 770).
    r"|datasette_litestream-[^/]+\.dist-info/sboms/[a-z-]+\.cyclonedx\.json"
    r"|datasette_litestream-[^/]+\.data/scripts/datasette-litestream)$"
)


def fail(message: str) -> None:
    print(f"check-wheels: {message}", file=sys.stderr)
    sys.exit(1)


def elf_facts(data: bytes) -> tuple[int, bool]:
    """(e_machine, has a .symtab section) of a little-endian ELF, 64-bit or (armv7l)
    32-bit."""
    if data[:4] != b"\x7fELF" or data[4] not in (1, 2) or data[5] != 1:
        fail("the host is not a little-endian ELF")
    wide = data[4] == 2

    def num(at: int, size: int) -> int:
        return int.from_bytes(data[at : at + size], "little")

    machine = num(18, 2)
    if wide:
        shoff, shentsize, shnum, shstrndx = num(0x28, 8), num(0x3A, 2), num(0x3C, 2), num(0x3E, 2)
    else:
        shoff, shentsize, shnum, shstrndx = num(0x20, 4), num(0x2E, 2), num(0x30, 2), num(0x32, 2)

    def section(i: int) -> tuple[int, int, int]:
        base = shoff + i * shentsize
        name = num(base, 4)
        offset, size = (num(base + 24, 8), num(base + 32, 8)) if wide else (num(base + 16, 4), num(base + 20, 4))
        return name, offset, size

    _, strtab, _ = section(shstrndx)
    names = []
    for i in range(shnum):
        name, _, _ = section(i)
        end = data.index(b"\0", strtab + name)
        names.append(data[strtab + name : end].decode())
    return machine, ".symtab" in names


def arch_of(wheel: Path) -> str:
    return next((a for a in ("aarch64", "armv7l") if a in wheel.name), "x86_64")


def check_wheel(wheel: Path, component: bytes) -> None:
    tag = re.search(r"-((?:manylinux|musllinux)[\w.]+)\.whl$", wheel.name)
    if not tag:
        fail(f"{wheel.name}: no Linux platform tag in its name")
    shown = subprocess.run(["auditwheel", "show", str(wheel)], capture_output=True, text=True)
    if shown.returncode != 0:
        fail(f"{wheel.name}: auditwheel show failed: {shown.stderr.strip()}")
    claimed = tag.group(1).split(".")
    consistent = re.search(r"consistent with the following platform tag:\s*\"([^\"]+)\"", shown.stdout)
    if not consistent or consistent.group(1) not in claimed:
        fail(f"{wheel.name}: auditwheel does not confirm {claimed}:\n{shown.stdout}")
    arch = arch_of(wheel)
    with zipfile.ZipFile(wheel) as z:
        names = z.namelist()
        strays = [n for n in names if not ALLOWED.match(n)]
        if strays:
            fail(f"{wheel.name}: carries files it does not need: {strays}")
        hosts = [n for n in names if n.endswith("/scripts/datasette-litestream")]
        if len(hosts) != 1:
            fail(f"{wheel.name}: expected one host program, found {hosts}")
        host = z.read(hosts[0])
    machine, symbols = elf_facts(host)
    if machine != MACHINES[arch]:
        fail(f"{wheel.name}: the host's ELF machine is {machine}, not {arch} ({MACHINES[arch]})")
    if symbols:
        fail(f"{wheel.name}: the host is not stripped (it has a .symtab)")
    if component not in host:
        fail(f"{wheel.name}: the host does not embed the rules component's bytes")
    print(
        f"{wheel.name}: {wheel.stat().st_size / 2**20:.1f} MiB; auditwheel: {consistent.group(1)}; "
        f"host {len(host) / 2**20:.1f} MiB, {arch} ELF, stripped, embeds the component "
        f"({len(component)} bytes)"
    )


def check_sdist(sdist: Path, component: bytes) -> None:
    with tarfile.open(sdist) as t:
        carried = [m for m in t.getmembers() if m.name.endswith("host/prebuilt/rules.wasm")]
        if len(carried) != 1:
            fail(f"{sdist.name}: does not carry host/prebuilt/rules.wasm")
        if t.extractfile(carried[0]).read() != component:
            fail(f"{sdist.name}: its rules component differs from the one the wheels embed")
    print(f"{sdist.name}: {sdist.stat().st_size / 2**20:.1f} MiB; carries the same rules component")


def check_embeds(wheel: Path, component: bytes) -> None:
    with zipfile.ZipFile(wheel) as z:
        hosts = [n for n in z.namelist() if n.endswith("/scripts/datasette-litestream")]
        if len(hosts) != 1 or component not in z.read(hosts[0]):
            fail(f"{wheel.name}: its host does not embed the sdist's rules component")
    print(f"{wheel.name} (built from the sdist): embeds the same rules component")


def main() -> None:
    if len(sys.argv) == 4 and sys.argv[1] == "--embeds":
        check_embeds(Path(sys.argv[2]), Path(sys.argv[3]).read_bytes())
        return
    if len(sys.argv) != 3:
        fail("usage: check-wheels.py DIST_DIR COMPONENT.wasm")
    dist, component = Path(sys.argv[1]), Path(sys.argv[2]).read_bytes()
    wheels = sorted(dist.glob("*.whl"))
    sdists = sorted(dist.glob("*.tar.gz"))
    arches = {arch_of(w) for w in wheels}
    if arches != set(MACHINES) or len(sdists) != 1:
        fail(
            f"expected an x86_64, an aarch64 and an armv7l wheel and one sdist in {dist}, "
            f"found {[p.name for p in dist.iterdir()]}"
        )
    for wheel in wheels:
        check_wheel(wheel, component)
    check_sdist(sdists[0], component)


if __name__ == "__main__":
    main()
