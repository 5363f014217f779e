"""Real videos from registry packages (../shared/testdata/real-videos.md), fetched once.

Never committed: ``pip download`` fetches the package into a cache, the file's SHA-256 is
checked, and callers skip when the package cannot be had (no network, package gone).
"""

from __future__ import annotations

import hashlib
import io
import os
import subprocess
import sys
import tarfile
import tempfile
import urllib.request
import zipfile
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class RealVideo:
    requirement: str  # "name==version" (PyPI) or "debian:package=version"
    member: str  # path inside the wheel / sdist / .deb (or "archive.zip!inner/path")
    sha256_prefix: str  # full digests, computed here: the table's finch prefix has a typo
    sdist: bool = False

    @property
    def debian(self) -> bool:
        return self.requirement.startswith("debian:")


REAL_VIDEOS = {
    "mouse": RealVideo(
        "animapp==0.1.5.6",
        "animapp/data_files/example_vid.mp4",
        "f373e4ae4208464f22c1b2f6be97ab51a6ad4565a92501201082aa00946e2437",
    ),
    "finch": RealVideo(
        "birdwatcher==0.5.0",
        "birdwatcher/testvideos/zf20s_low.mp4",
        "cde193d4d4b9462b502b761b91da34bb4b00572d8cf1688afa7a8b58bfc9cb07",
    ),
    # H.264 4:4:4 by x264 core 142: decoded from a mid-file keyframe without the encoder's
    # version (read from an SEI in the first frame) it comes out as green garbage.
    "cockatoo444": RealVideo(
        "debian:python3-imageio=2.4.1-5",
        "./usr/lib/python3/dist-packages/imageio/resources/images/cockatoo.mp4",
        "5fde35f5a288ca86e216d2dc28188ab64b4560d3021f273faefdf0de80f38aa5",
    ),
    "bbb_long": RealVideo(
        "moviepy==2.2.1",
        "docs/_static/medias/getting_started/moviepy_10_minutes/moviepy_10_minutes.zip"
        "!moviepy_10_minutes/resources/bbb.mp4",
        "475fbbf34c4c367998f80c29ea03b15a743941179b12da3373fc6706e68621d0",
        sdist=True,
    ),
}


class Unavailable(RuntimeError):
    """The real video cannot be had here; tests skip on it."""


def cache_dir() -> Path:
    root = os.environ.get("ETHOCLIP_TESTDATA_CACHE") or Path.home() / ".cache" / "ethoclip"
    path = Path(root) / "realdata"
    path.mkdir(parents=True, exist_ok=True)
    return path


def fetch(name: str) -> Path:
    """Path of the cached real video ``name``; downloads its package the first time."""
    spec = REAL_VIDEOS[name]
    target = cache_dir() / f"{name}{Path(spec.member).suffix}"
    if not target.exists():
        archive = _download(spec)
        data = _deb_member(archive, spec.member) if spec.debian else _extract(archive, spec.member)
        tmp = target.with_suffix(".part")
        tmp.write_bytes(data)
        os.replace(tmp, target)
    digest = hashlib.sha256(target.read_bytes()).hexdigest()
    if not digest.startswith(spec.sha256_prefix):
        target.unlink()
        raise Unavailable(f"{name}: SHA-256 {digest[:16]} ≠ {spec.sha256_prefix}; refetch")
    return target


# Debian's archive is a package registry like PyPI: the pool path of each pinned package.
_DEBIAN_POOL = {
    "python3-imageio=2.4.1-5": "main/i/imageio/python3-imageio_2.4.1-5_all.deb",
}


def _download_deb(spec: RealVideo, folder: Path) -> Path:
    package = spec.requirement.removeprefix("debian:")
    target = folder / (package.replace("=", "_") + ".deb")
    if target.exists():
        return target
    with tempfile.TemporaryDirectory(dir=folder) as tmp:
        try:  # apt knows the machine's mirror; the pool URL works without apt lists
            subprocess.run(
                ["apt-get", "download", "-q", package],
                cwd=tmp,
                check=True,
                capture_output=True,
                timeout=300,
            )
            (downloaded,) = Path(tmp).glob("*.deb")
        except (subprocess.SubprocessError, OSError, ValueError):
            url = f"http://deb.debian.org/debian/pool/{_DEBIAN_POOL[package]}"
            downloaded = Path(tmp) / "package.deb"
            try:
                with urllib.request.urlopen(url, timeout=120) as response:
                    downloaded.write_bytes(response.read())
            except OSError as exc:
                raise Unavailable(f"cannot download {package} from Debian: {exc}") from None
        os.replace(downloaded, target)
    return target


def _deb_member(deb: Path, member: str) -> bytes:
    """One file from a .deb: an ar archive whose data.tar.* holds the package's files."""
    data = deb.read_bytes()
    if not data.startswith(b"!<arch>\n"):
        raise Unavailable(f"{deb.name}: not a Debian package")
    offset = 8
    while offset + 60 <= len(data):
        name = data[offset : offset + 16].decode().strip().rstrip("/")
        size = int(data[offset + 48 : offset + 58].decode().strip())
        body = data[offset + 60 : offset + 60 + size]
        if name.startswith("data.tar"):
            with tarfile.open(fileobj=io.BytesIO(body)) as tar:
                extracted = tar.extractfile(member)
                if extracted is None:
                    raise Unavailable(f"{deb.name}: {member} is not a file")
                return extracted.read()
        offset += 60 + size + (size % 2)
    raise Unavailable(f"{deb.name}: no data archive")


# Third-party files used as test data (never installed, never committed): the wheel's SHA-256.
PACKAGES = {
    "mmaction2==1.2.0": "4697af11801a7e7b45700a1d21cb27afb5350b28718c31ca19b65a927fde1614",
}


def fetch_package(requirement: str) -> Path:
    """A registry package as a file in the cache (``pip download --no-deps``), hash-checked."""
    path = _download(RealVideo(requirement, "", PACKAGES[requirement]))
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if digest != PACKAGES[requirement]:
        path.unlink()
        raise Unavailable(f"{requirement}: SHA-256 {digest[:16]} is not the pinned one; refetch")
    return path


def _download(spec: RealVideo) -> Path:
    folder = cache_dir() / "packages"
    folder.mkdir(exist_ok=True)
    if spec.debian:
        return _download_deb(spec, folder)
    name = spec.requirement.split("==")[0]
    found = [p for p in folder.iterdir() if p.name.lower().startswith(name.lower())]
    if found:
        return found[0]
    with tempfile.TemporaryDirectory(dir=folder) as tmp:
        cmd = [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--no-deps",
            "-q",
            "-d",
            tmp,
            spec.requirement,
        ]
        if spec.sdist:
            cmd[5:5] = ["--no-binary", ":all:"]
        try:
            subprocess.run(cmd, check=True, capture_output=True, timeout=600)
        except (subprocess.SubprocessError, OSError) as exc:
            raise Unavailable(f"pip download {spec.requirement} failed: {exc}") from None
        (downloaded,) = Path(tmp).iterdir()
        final = folder / downloaded.name
        os.replace(downloaded, final)
        return final


def _extract(archive: Path, member: str) -> bytes:
    outer, _, inner = member.partition("!")
    if archive.suffix in (".whl", ".zip"):
        data = zipfile.ZipFile(archive).read(outer)
    else:
        with tarfile.open(archive) as tar:
            entry = next(m for m in tar.getmembers() if m.name.endswith(outer))
            extracted = tar.extractfile(entry)
            assert extracted is not None
            data = extracted.read()
    if inner:
        data = zipfile.ZipFile(io.BytesIO(data)).read(inner)
    return data


def ffmpeg_binary() -> str | None:
    """The ffmpeg executable shipped by imageio-ffmpeg (a registry package), if installed."""
    try:
        import imageio_ffmpeg
    except ImportError:
        return None
    try:
        return str(imageio_ffmpeg.get_ffmpeg_exe())
    except RuntimeError:
        return None
