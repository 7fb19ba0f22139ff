"""Reference artifacts from a Maven repository (https://, http:// or file://), downloaded once into a cache.

A download is verified against the repository's own ``.sha512`` (else ``.sha1``) file when the repository
has one, bounded in size, retried with exponential backoff on transient failures (HTTP 5xx/429, connection
errors, timeouts), and written atomically (temporary file in the cache, then rename). A file that fails
verification is deleted, never kept. Only files under the cache directory are ever written.
"""

from __future__ import annotations

import hashlib
import http.client
import io
import os
import re
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import BinaryIO

from ..errors import UsageError

__all__ = ["DEFAULT_REPOSITORY", "FetchResult", "FetchStatus", "ReferenceRepo", "default_cache_dir",
           "safe_repo_path"]

DEFAULT_REPOSITORY = "https://repo1.maven.org/maven2"
_CHUNK = 1024 * 1024
_MAX_CHECKSUM_FILE = 4096
_SAFE_SEGMENT = re.compile(r"^[A-Za-z0-9._+~@!-][A-Za-z0-9._+~@!=,-]*$")


def default_cache_dir() -> Path:
    """``$XDG_CACHE_HOME/canonjar`` or ``~/.cache/canonjar``."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "canonjar"


class FetchStatus(StrEnum):
    OK = "ok"
    MISSING = "missing"  # the repository says 404/410 (or the file:// path does not exist)
    ERROR = "error"  # checksum mismatch, too large, transient errors that outlived the retries


@dataclass(frozen=True)
class FetchResult:
    status: FetchStatus
    url: str
    path: Path | None = None
    checksum: str = ""  # "sha512", "sha1" or "" (the repository had no checksum file)
    error: str = ""


class _Missing(Exception):
    """The repository does not have the file."""


class _Transient(Exception):
    """A failure worth retrying."""


class _Fatal(Exception):
    """A failure not worth retrying (too large, bad checksum file...)."""


def safe_repo_path(repo_path: str) -> str:
    """``repo_path`` if every segment is a plain name (no ``..``, no absolute path, no odd characters)."""
    parts = repo_path.split("/")
    if not parts or any(not _SAFE_SEGMENT.match(p) or p in (".", "..") for p in parts):
        raise ValueError(f"unsafe repository path {repo_path!r}")
    return repo_path


def _cache_key(base_url: str) -> str:
    parsed = urllib.parse.urlsplit(base_url)
    host = re.sub(r"[^A-Za-z0-9.-]", "_", parsed.netloc or parsed.scheme)
    return f"{host}-{hashlib.sha256(base_url.encode()).hexdigest()[:12]}"


class ReferenceRepo:
    """Fetches ``repo_path`` files of one Maven repository into ``cache_dir`` (thread- and process-safe)."""

    def __init__(self, base_url: str, cache_dir: Path, max_size: int, attempts: int = 4, timeout: float = 60.0,
                 backoff: float = 0.5, sleep: Callable[[float], None] = time.sleep) -> None:
        base = base_url.rstrip("/")
        scheme = urllib.parse.urlsplit(base).scheme
        if scheme not in ("http", "https", "file"):
            raise UsageError(f"--reference-repo {base_url!r}: expected an http://, https:// or file:// URL")
        if attempts < 1:
            raise UsageError("--retries must be at least 1")
        self.base_url = base
        self.scheme = scheme
        self.root = cache_dir / _cache_key(base)
        self.max_size = max_size
        self.attempts = attempts
        self.timeout = timeout
        self.backoff = backoff
        self.sleep = sleep

    def url(self, repo_path: str) -> str:
        return f"{self.base_url}/{urllib.parse.quote(repo_path)}"

    def fetch(self, repo_path: str) -> FetchResult:
        """The cached file, downloading and verifying it first if needed. Never raises for network errors.

        The body is streamed into a temporary file next to its final place (memory stays bounded whatever
        the size limit), verified, then renamed; on any failure the temporary file is removed."""
        url = self.url(repo_path)
        try:
            safe_repo_path(repo_path)
        except ValueError as exc:
            return FetchResult(FetchStatus.ERROR, url, error=str(exc))
        dest = self.root / repo_path
        if dest.is_file():
            return FetchResult(FetchStatus.OK, url, dest, checksum=_read_marker(dest))
        tmp: Path | None = None
        try:
            if not dest.resolve().is_relative_to(self.root.resolve()):
                raise OSError(f"{dest} is outside the cache")
            dest.parent.mkdir(parents=True, exist_ok=True)
            fd, name = tempfile.mkstemp(dir=dest.parent, prefix=".part-", suffix=".tmp")
            tmp = Path(name)
            with os.fdopen(fd, "w+b") as fh:
                self._get(url, self.max_size, fh)
                checksum, expected = self._expected_checksum(url)
                if checksum:
                    fh.seek(0)
                    actual = _digest(fh, checksum)
                    if actual != expected:
                        return FetchResult(FetchStatus.ERROR, url, error=f"{url}: {checksum} mismatch (repository "
                                           f"says {expected}, downloaded file has {actual}); file not kept")
                fh.flush()
                os.fsync(fh.fileno())
            _atomic_write(_marker(dest), (checksum or "none").encode(), self.root)
            os.replace(tmp, dest)
            tmp = None
        except _Missing:
            return FetchResult(FetchStatus.MISSING, url, error=f"{url}: not found in the reference repository")
        except (_Transient, _Fatal) as exc:
            return FetchResult(FetchStatus.ERROR, url, error=str(exc))
        except OSError as exc:
            return FetchResult(FetchStatus.ERROR, url, error=f"cannot write the cache: {exc.strerror or exc}")
        finally:
            if tmp is not None:
                tmp.unlink(missing_ok=True)
        return FetchResult(FetchStatus.OK, url, dest, checksum=checksum)

    def _expected_checksum(self, url: str) -> tuple[str, str]:
        """("sha512", hex) or ("sha1", hex) from the repository, or ("", "") when it has neither."""
        for algo in ("sha512", "sha1"):
            buf = io.BytesIO()
            try:
                self._get(f"{url}.{algo}", _MAX_CHECKSUM_FILE, buf)
            except _Missing:
                continue
            text = buf.getvalue().decode("ascii", "replace")
            token = text.strip().split()[0].lower() if text.strip() else ""
            width = 128 if algo == "sha512" else 40
            if not re.fullmatch(rf"[0-9a-f]{{{width}}}", token):
                raise _Fatal(f"{url}.{algo}: not a {algo} checksum file")
            return algo, token
        return "", ""

    def _get(self, url: str, limit: int, out: BinaryIO) -> None:
        """Write the body of ``url`` to ``out``, retrying transient failures with exponential backoff."""
        last = ""
        for attempt in range(self.attempts):
            if attempt:
                self.sleep(self.backoff * (2 ** (attempt - 1)))
            out.seek(0)
            out.truncate()
            try:
                self._get_once(url, limit, out)
                return
            except _Transient as exc:
                last = str(exc)
        raise _Transient(f"{url}: gave up after {self.attempts} attempt(s): {last}")

    def _get_once(self, url: str, limit: int, out: BinaryIO) -> None:
        if self.scheme == "file":
            _copy_file_url(url, limit, out)
            return
        req = urllib.request.Request(url, headers={"User-Agent": "canonjar-batch"})
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:
                declared = resp.headers.get("Content-Length")
                if declared is not None and declared.isdigit() and int(declared) > limit:
                    raise _Fatal(f"{url}: {declared} bytes exceeds the limit of {limit} bytes")
                _copy_bounded(resp, out, url, limit)
        except urllib.error.HTTPError as exc:
            if exc.code in (404, 410):
                raise _Missing(url) from None
            if exc.code >= 500 or exc.code in (408, 429):
                raise _Transient(f"HTTP {exc.code}") from None
            raise _Fatal(f"{url}: HTTP {exc.code}") from None
        except urllib.error.URLError as exc:
            raise _Transient(f"{exc.reason}") from None
        except (TimeoutError, ConnectionError, http.client.HTTPException) as exc:
            raise _Transient(f"{type(exc).__name__}: {exc}") from None
        except OSError as exc:  # other socket errors while reading
            raise _Transient(f"{type(exc).__name__}: {exc}") from None


def _digest(fh: BinaryIO, algo: str) -> str:
    h = hashlib.new(algo)
    while chunk := fh.read(_CHUNK):
        h.update(chunk)
    return h.hexdigest()


def _copy_bounded(src: BinaryIO, out: BinaryIO, url: str, limit: int) -> None:
    """Copy ``src`` to ``out`` in chunks, failing as soon as more than ``limit`` bytes came."""
    total = 0
    while chunk := src.read(_CHUNK):
        total += len(chunk)
        if total > limit:
            raise _Fatal(f"{url}: more than {limit} bytes (the archive size limit)")
        out.write(chunk)


def _copy_file_url(url: str, limit: int, out: BinaryIO) -> None:
    path = Path(urllib.request.url2pathname(urllib.parse.urlsplit(url).path))
    try:
        if not path.is_file():
            raise _Missing(url)
        size = path.stat().st_size
        if size > limit:
            raise _Fatal(f"{url}: {size} bytes exceeds the limit of {limit} bytes")
        with path.open("rb") as src:
            _copy_bounded(src, out, url, limit)
    except FileNotFoundError:
        raise _Missing(url) from None
    except OSError as exc:
        raise _Fatal(f"{url}: {exc.strerror or exc}") from None


def _marker(dest: Path) -> Path:
    return dest.with_name(dest.name + ".canonjar-verified")


def _read_marker(dest: Path) -> str:
    try:
        text = _marker(dest).read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError):
        return ""
    return "" if text == "none" else text


def _atomic_write(dest: Path, data: bytes, root: Path) -> None:
    """Write ``data`` to ``dest`` (inside ``root``) through a temporary file and a rename."""
    if not dest.resolve().is_relative_to(root.resolve()):
        raise OSError(f"{dest} is outside the cache")
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=".part-", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, dest)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
