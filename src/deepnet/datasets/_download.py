"""Network helpers: reachability probe and checksum-verified downloads written atomically.

Nothing here runs unless a loader finds its files missing from the cache; tests replace
:func:`network_available` / :func:`download_file` so they never touch the network.
"""

from __future__ import annotations

import hashlib
import os
import socket
import sys
import urllib.parse

from ..utils.io import atomic_write

__all__ = ["DownloadError", "download_file", "network_available", "sha256_file"]

_CHUNK = 1 << 20


class DownloadError(OSError):
    """A download failed (network error, or the file did not match its published checksum)."""


def network_available(url: str, timeout: float = 3.0) -> bool:
    """True when a TCP connection to ``url``'s host can be opened within ``timeout`` seconds."""
    parts = urllib.parse.urlsplit(url)
    host = parts.hostname
    if not host:
        return False
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def sha256_file(path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(_CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


def download_file(url: str, destination, sha256: str | None = None, timeout: float = 60.0) -> str:
    """Download ``url`` to ``destination`` atomically; verify SHA-256 before the file appears.

    Raises :class:`DownloadError` on a network failure or a checksum mismatch (the partial
    file is removed, nothing is left at ``destination``).
    """
    import urllib.request  # only needed when downloading (keeps the package import cheap)

    destination = os.fspath(destination)
    print(f"Downloading {url} -> {destination}", file=sys.stderr)
    digest = hashlib.sha256()
    try:
        with atomic_write(destination, "wb") as out:
            with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 (https/http mirrors)
                for block in iter(lambda: response.read(_CHUNK), b""):
                    digest.update(block)
                    out.write(block)
            if sha256 is not None and digest.hexdigest() != sha256:
                raise DownloadError(
                    f"Checksum mismatch for {url}: expected SHA-256 {sha256}, got "
                    f"{digest.hexdigest()}. The file was discarded."
                )
    except DownloadError:
        raise
    except OSError as e:  # URLError, HTTPError, timeouts and socket errors are OSErrors
        raise DownloadError(f"Could not download {url}: {e}") from e
    return destination
