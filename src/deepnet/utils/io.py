"""Atomic file writes: temp file in the same folder, flush + fsync, rename.

A crash during a save leaves the previous file intact: readers see either the old or the
new content, never a partial file. A save killed outright (SIGKILL, power loss) can leave its
temporary file behind; the next atomic write to the same folder removes such leftovers (only
deepnet's own temporary files, recognised by their name, written by a process that no longer
runs, and older than the running write).

>>> import os, tempfile
>>> path = os.path.join(tempfile.mkdtemp(), "hello.txt")
>>> atomic_write_bytes(path, b"hi")
>>> open(path, "rb").read()
b'hi'
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import tempfile
import time
from collections.abc import Iterator

__all__ = ["TEMP_SUFFIX", "atomic_write", "atomic_write_bytes", "current_umask",
           "remove_stale_temp_files"]

#: Name ending of deepnet's temporary files: ``.<target name>.<pid>-<random>.deepnet-tmp``.
TEMP_SUFFIX = ".deepnet-tmp"
_TEMP_RE = re.compile(r"^\..+\.(\d+)-[A-Za-z0-9_]+" + re.escape(TEMP_SUFFIX) + r"$")


def current_umask() -> int:
    """The process umask (read without changing it for longer than two calls).

    >>> 0 <= current_umask() <= 0o777
    True
    """
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True  # exists (owned by someone else) or cannot tell: keep the file
    return True


def remove_stale_temp_files(folder, older_than: float | None = None) -> list[str]:
    """Delete deepnet temporary files left in ``folder`` by interrupted writes: names matching
    ``.<name>.<pid>-<random>.deepnet-tmp`` whose process is gone and whose modification time
    is before ``older_than`` (default: now). Returns the removed paths; errors are ignored.

    >>> import tempfile
    >>> remove_stale_temp_files(tempfile.mkdtemp())
    []
    """
    cutoff = time.time() if older_than is None else older_than
    removed = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    for entry in entries:
        match = _TEMP_RE.match(entry.name)
        if not match or _pid_alive(int(match.group(1))):
            continue
        with contextlib.suppress(OSError):
            if entry.is_file(follow_symlinks=False) and entry.stat(follow_symlinks=False).st_mtime < cutoff:
                os.unlink(entry.path)
                removed.append(entry.path)
    return removed


def _named(error: OSError, path: str) -> OSError:
    """The same kind of OSError, with a message naming the file being written."""
    reason = error.strerror or str(error)
    hint = " help: free some disk space and save again." if error.errno == errno.ENOSPC else ""
    out = type(error)(error.errno, f"Cannot write {path!r}: {reason}.{hint}")
    out.filename = path
    return out


@contextlib.contextmanager
def atomic_write(path, mode: str = "wb") -> Iterator:
    """``with atomic_write("model.deepnet") as f: f.write(...)`` (binary by default; ``"w"``
    writes UTF-8 text). An OSError (disk full, permission denied) names ``path``.

    >>> import os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "notes.txt")
    >>> with atomic_write(path, "w") as f:
    ...     _ = f.write("saved")
    >>> open(path).read()
    'saved'
    """
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    started = time.time()
    try:
        os.makedirs(folder, exist_ok=True)
        remove_stale_temp_files(folder, older_than=started)
        fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.{os.getpid()}-",
                                   suffix=TEMP_SUFFIX, dir=folder)
    except OSError as e:
        raise _named(e, path) from e
    try:
        with os.fdopen(fd, mode, **({} if "b" in mode else {"encoding": "utf-8", "newline": ""})) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o666 & ~current_umask())  # mkstemp creates 0600; give the usual permissions
        os.replace(tmp, path)
        _fsync_dir(folder)
    except BaseException as e:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        if isinstance(e, OSError) and path not in str(e):
            raise _named(e, path) from e
        raise


def atomic_write_bytes(path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically (see :func:`atomic_write`).

    >>> import os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "blob.bin")
    >>> atomic_write_bytes(path, b"abc")
    >>> os.path.getsize(path)
    3
    """
    with atomic_write(path, "wb") as f:
        f.write(data)


def _fsync_dir(folder: str) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
