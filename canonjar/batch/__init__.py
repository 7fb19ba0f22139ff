"""``canonjar batch``: compare every artifact of many Reproducible Central releases, results in SQLite.

Usage::

    canonjar batch PATH... --rebuild-dir DIR [--reference-repo URL] [--cache DIR] [--db FILE]
                   [--jobs N] [--executor local|dask://HOST:PORT] [--enable NAME] [--disable NAME]

``PATH`` is a ``.buildspec``, a directory tree of them, or a list file (one path a line, relative to the
list's folder). For each artifact the .buildinfo declares:

- the **reference** is downloaded from ``--reference-repo`` (a Maven repository: https://, http:// or
  file://; default Maven Central) into ``--cache`` (default ``$XDG_CACHE_HOME/canonjar`` or
  ``~/.cache/canonjar``) once, verified against the repository's ``.sha512`` (else ``.sha1``), bounded by
  ``--max-archive-size``, retried with exponential backoff on 5xx/429/connection errors (``--retries``,
  ``--timeout``);
- the **rebuild** is found under ``--rebuild-dir``: a Reproducible Central ``buildcache/`` tree (through the
  ``# diffoscope`` lines, else by name under ``buildcache/<artifactId>/``), a Maven repository layout, or a
  flat directory; its SHA-512 is checked against the .buildinfo (``rebuild_sha512_ok``);
- the pair is compared in a worker (a process pool of ``--jobs`` processes, all cores by default, or a Dask
  cluster), several pairs per worker call (``--chunk-size``), with the stabilizers ``--enable``/``--disable``
  select (recorded on every row).

Verdicts: ``identical``, ``equivalent``, ``different``, ``missing-reference`` (404), ``missing-rebuild``,
``ignored`` (upstream ignores the file) and ``error`` (unreadable, limit exceeded, checksum mismatch,
malformed release naming file and line). Each row also says whether the verdict agrees with upstream's
ok/ko and with its ``stabilize_*`` ok/ko. Files that are not archives (``.pom``, ``.tar.gz``...) are compared
byte for byte.

Results go to ``--db`` (default ``$XDG_DATA_HOME/canonjar/results.sqlite`` or
``~/.local/share/canonjar/results.sqlite``); the schema is documented in :mod:`canonjar.batch.store` and
read back with :func:`iter_results`. Every artifact is committed when it is done, so an interrupted batch
(Ctrl-C, kill) is resumed by running the same command again: comparisons already done with the same input
digests, canonjar version and stabilizers are skipped. Several processes may share one database.

A progress bar (releases, artifacts, verdict counts, throughput) is shown on a terminal only; the last line
on stdout is a summary. Exit codes: 0 when the batch ran, whatever the verdicts; 2 on bad input (one line
on stderr); 130 on Ctrl-C.

Modules: :mod:`.repo` (reference downloads and cache), :mod:`.rebuilds` (finding rebuilt files),
:mod:`.work` (the picklable unit of work), :mod:`.executors` (inline, process pool, Dask),
:mod:`.store` (the SQLite schema and :func:`~.store.iter_results`), :mod:`.progress`, :mod:`.runner`,
:mod:`.cli` (checks of the command's input).
"""

from .store import ResultRow, iter_results

__all__ = ["ResultRow", "iter_results"]
