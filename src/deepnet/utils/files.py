"""Keras' ``get_file``: download once into a cache (checksum-verified, atomic), then work offline.

Without a network the error names the exact path where the file is expected, so it can be
copied there by hand; the next call finds it and never touches the network.
"""

from __future__ import annotations

import hashlib
import os
import sys
import tarfile
import urllib.parse
import zipfile

from ._param_validation import validate_params
from .io import atomic_write
from .validation import Boolean, NoneOr, Options, String

__all__ = ["cache_root", "get_file", "hash_file"]

CACHE_ENV_VARS = ("DEEPNET_CACHE_DIR", "KERAS_HOME")
_CHUNK = 1 << 20


def cache_root(cache_dir=None) -> str:
    """The cache folder of :func:`get_file`: ``cache_dir``, else ``$DEEPNET_CACHE_DIR``, else
    ``$KERAS_HOME``, else ``~/.keras`` (Keras' folder, so files Keras downloaded are reused).

    >>> import os
    >>> dn.utils.cache_root("here") == os.path.abspath("here")
    True
    """
    if cache_dir is None:
        cache_dir = next((os.environ[v] for v in CACHE_ENV_VARS if os.environ.get(v)),
                         os.path.join("~", ".keras"))
    return os.path.abspath(os.path.expanduser(os.fspath(cache_dir)))


def _hasher(algorithm: str, file_hash: str | None):
    if algorithm == "sha256" or (algorithm == "auto" and file_hash is not None and len(file_hash) == 64):
        return hashlib.sha256()
    return hashlib.md5()  # noqa: S324 (Keras' legacy md5 checksums, not security)


def hash_file(path, algorithm: str = "sha256") -> str:
    """The hex digest of a file (``"sha256"`` or ``"md5"``).

    >>> _ = open("a.txt", "w").write("abc")
    >>> dn.utils.hash_file("a.txt")[:16]
    'ba7816bf8f01cfea'
    """
    digest = _hasher(algorithm, None) if algorithm != "auto" else hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(_CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


def _matches(path: str, file_hash: str | None, algorithm: str) -> bool:
    if file_hash is None:
        return True
    name = _hasher(algorithm, file_hash).name
    return hash_file(path, name) == file_hash.lower()


def _download(origin: str, target: str, file_hash: str | None, algorithm: str) -> None:
    import urllib.request  # only needed when downloading (keeps `import deepnet` cheap)

    print(f"Downloading data from {origin}", file=sys.stderr)
    digest = _hasher(algorithm, file_hash)
    try:
        with atomic_write(target, "wb") as out:
            with urllib.request.urlopen(origin, timeout=60) as response:  # noqa: S310 (user-given URL)
                for block in iter(lambda: response.read(_CHUNK), b""):
                    digest.update(block)
                    out.write(block)
            if file_hash is not None and digest.hexdigest() != file_hash.lower():
                raise ValueError(
                    f"get_file: the file downloaded from {origin} has {digest.name} {digest.hexdigest()}, "
                    f"expected {file_hash}. It was discarded; check `file_hash` and the origin.")
    except OSError as e:  # URLError, HTTPError, timeouts, socket errors
        raise OSError(
            f"get_file could not download {origin} ({e}). help: without a network, place the file at "
            f"{target} (the cache) and call again; it is then used offline.") from e


def _safe_members(archive: tarfile.TarFile, folder: str) -> None:
    archive.extractall(folder, filter="data")  # refuses absolute paths, '..', devices and links out


def _extract(path: str, folder: str, archive_format) -> bool:
    formats = ["tar", "zip"] if archive_format == "auto" else [] if archive_format is None else [archive_format]
    os.makedirs(folder, exist_ok=True)
    if "tar" in formats and tarfile.is_tarfile(path):
        with tarfile.open(path) as archive:
            _safe_members(archive, folder)
        return True
    if "zip" in formats and zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive:
            root = os.path.realpath(folder)
            for member in archive.namelist():
                dest = os.path.realpath(os.path.join(folder, member))
                if os.path.commonpath([root, dest]) != root:
                    raise ValueError(f"get_file: {path} holds {member!r}, a path outside {folder}; "
                                     "refusing to extract it.")
            archive.extractall(folder)
        return True
    return False


def _targets(fname, origin: str, datadir: str, extract: bool) -> tuple[str, str | None]:
    name = os.fspath(fname) if fname else os.path.basename(urllib.parse.urlsplit(origin).path)
    if not name:
        raise ValueError(f"get_file cannot take a file name from origin={origin!r}. help: pass fname=.")
    if os.sep in name:
        raise ValueError(f"get_file: `fname` must be a file name, not a path (received fname={name!r}). "
                         "help: pass the folder as cache_dir= (and cache_subdir=).")
    if not extract:
        return os.path.join(datadir, name), None
    if fname and "." in name:
        return os.path.join(datadir, name), os.path.join(datadir, name[: name.find(".")] + "_extracted")
    return os.path.join(datadir, name + "_archive"), os.path.join(datadir, name)


@validate_params({
    "origin": String(), "untar": Boolean(), "md5_hash": NoneOr(String()), "file_hash": NoneOr(String()),
    "cache_subdir": String(allow_empty=True), "hash_algorithm": Options(("auto", "sha256", "md5")),
    "extract": Boolean(), "archive_format": NoneOr(Options(("auto", "tar", "zip"))),
    "force_download": Boolean(), "fname": None, "cache_dir": None,
})
def get_file(fname=None, origin=None, untar=False, md5_hash=None, file_hash=None, cache_subdir="datasets",
             hash_algorithm="auto", extract=False, archive_format="auto", cache_dir=None,
             force_download=False):
    """Download ``origin`` into ``<cache_dir>/<cache_subdir>/<fname>`` unless it is already there.

    Returns the local path (the extraction folder with ``extract=True``). ``file_hash`` (SHA-256
    or MD5, detected by length with ``hash_algorithm="auto"``) is checked after downloading and on
    a cached file (a mismatching cached file is downloaded again). Keras' arguments and layout;
    the cache is :func:`cache_root`. Without a network: an ``OSError`` naming the path to fill.

    >>> import os; os.makedirs("cache/datasets")
    >>> _ = open("cache/datasets/data.txt", "w").write("abc")  # already cached: no download
    >>> path = dn.utils.get_file(origin="https://example.com/data.txt", cache_dir="cache")
    >>> os.path.relpath(path)
    'cache/datasets/data.txt'
    """
    if origin is None:
        raise ValueError("get_file needs `origin`, the URL of the file to download.")
    if md5_hash is not None and file_hash is None:
        file_hash, hash_algorithm = md5_hash, "md5"
    datadir = os.path.join(cache_root(cache_dir), cache_subdir)
    target, folder = _targets(fname, origin, datadir, extract or untar)
    if folder is not None and os.path.isdir(folder) and not os.path.exists(target) and not force_download:
        return folder  # extracted earlier from a verified archive that was deleted since
    if force_download or not os.path.exists(target) or not _matches(target, file_hash, hash_algorithm):
        if os.path.exists(target) and not force_download:
            print(f"get_file: {target} does not match its {hash_algorithm} hash {file_hash}; "
                  "downloading it again.", file=sys.stderr)
        os.makedirs(datadir, exist_ok=True)
        _download(origin, target, file_hash, hash_algorithm)
    if folder is None:
        return target
    if not os.path.isdir(folder) or force_download:
        if not _extract(target, folder, "tar" if untar else archive_format):
            raise ValueError(f"get_file: {target} is not a {archive_format} archive it can extract.")
    return folder
