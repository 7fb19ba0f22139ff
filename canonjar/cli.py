"""Command line: translates arguments into library calls and outcomes into exit codes (0/1/2)."""

from __future__ import annotations

import os
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from .api import canonicalize_file, compare_files
from .errors import CanonjarError, UsageError
from .limits import DEFAULT_LIMITS, Limits
from .outcome import Outcome
from .pipeline import Stabilizer, all_stabilizers, select_stabilizers
from .report import ReportFormat, render

__all__ = ["OutputFormat", "app", "main"]

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  rich_markup_mode=None,
                  help="Tell whether a rebuilt Java artifact is the same software as the published one.")


#: The --format choices: every one has a renderer (canonjar.report.RENDERERS; tests check it).
OutputFormat = ReportFormat
FormatOpt = Annotated[ReportFormat, typer.Option(
    "--format", "-f", help="Output format: text, json (docs/outcome.schema.json), markdown or html (one "
    "self-contained file).")]


EnableOpt = Annotated[list[str] | None, typer.Option(
    "--enable", metavar="NAME", help="Enable a stabilizer by name (repeatable; 'all' or 'none').")]
DisableOpt = Annotated[list[str] | None, typer.Option(
    "--disable", metavar="NAME", help="Disable a stabilizer by name (repeatable; 'all' or 'none').")]
MaxEntry = Annotated[int, typer.Option("--max-entry-size", help="Largest uncompressed entry, in bytes.")]
MaxTotal = Annotated[int, typer.Option("--max-total-size", help="Most bytes inflated per side.")]
MaxRatio = Annotated[float, typer.Option("--max-ratio", help="Highest compression ratio of an entry > 1 MiB.")]
MaxDepth = Annotated[int, typer.Option("--max-depth", help="Deepest level of nested archives to open.")]
MaxArchive = Annotated[int, typer.Option("--max-archive-size", help="Largest input archive, in bytes.")]
MaxEntries = Annotated[int, typer.Option("--max-entries", help="Most entries in one archive.")]


def _limits(max_entry: int, max_total: int, ratio: float, depth: int, archive: int, entries: int) -> Limits:
    if min(max_entry, max_total, archive, entries) <= 0 or ratio <= 0 or depth < 0:
        raise UsageError("limits must be positive")
    return Limits(max_archive_size=archive, max_entry_size=max_entry, max_total_size=max_total,
                  max_ratio=ratio, max_depth=depth, max_entries=entries)


def _select(enable: list[str] | None, disable: list[str] | None) -> tuple[Stabilizer, ...]:
    return select_stabilizers(enable or (), disable or ())


def _write_output(text: str, output: Path | None) -> None:
    if output is None:
        sys.stdout.write(text)
        return
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"{output}: cannot write ({exc.strerror or exc})") from None


@app.command()
def compare(
    reference: Annotated[Path, typer.Argument(metavar="REFERENCE", help="The published artifact.")],
    rebuild: Annotated[Path, typer.Argument(metavar="REBUILD", help="The rebuilt artifact.")],
    fmt: FormatOpt = ReportFormat.text,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write the report here.")] = None,
    show_noise: Annotated[bool, typer.Option("--show-noise", help="List everything canonicalized.")] = False,
    enable: EnableOpt = None,
    disable: DisableOpt = None,
    max_entry_size: MaxEntry = DEFAULT_LIMITS.max_entry_size,
    max_total_size: MaxTotal = DEFAULT_LIMITS.max_total_size,
    max_ratio: MaxRatio = DEFAULT_LIMITS.max_ratio,
    max_depth: MaxDepth = DEFAULT_LIMITS.max_depth,
    max_archive_size: MaxArchive = DEFAULT_LIMITS.max_archive_size,
    max_entries: MaxEntries = DEFAULT_LIMITS.max_entries,
) -> None:
    """Compare REFERENCE with REBUILD: exit 0 identical/equivalent, 1 different, 2 error."""
    limits = _limits(max_entry_size, max_total_size, max_ratio, max_depth, max_archive_size, max_entries)
    stabs = _select(enable, disable)
    outcome = compare_files(reference, rebuild, stabs, limits)
    color = (fmt is ReportFormat.text and output is None and sys.stdout.isatty()
             and not os.environ.get("NO_COLOR"))
    text = render(outcome, fmt, show_noise=show_noise, color=color)
    if fmt is ReportFormat.text and outcome.error is not None and output is None:
        sys.stderr.write(text)
    else:
        _write_output(text, output)
        if outcome.error is not None:  # the report went to a file or is JSON/...: still one line on stderr
            sys.stderr.write(f"canonjar: error: {outcome.error}\n")
    raise typer.Exit(outcome.exit_code)


@app.command()
def canonicalize(
    source: Annotated[Path, typer.Argument(metavar="SOURCE", help="The artifact to canonicalize.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Where to write the canonical JAR.")],
    show_noise: Annotated[bool, typer.Option("--show-noise", help="List everything canonicalized.")] = False,
    enable: EnableOpt = None,
    disable: DisableOpt = None,
    max_entry_size: MaxEntry = DEFAULT_LIMITS.max_entry_size,
    max_total_size: MaxTotal = DEFAULT_LIMITS.max_total_size,
    max_ratio: MaxRatio = DEFAULT_LIMITS.max_ratio,
    max_depth: MaxDepth = DEFAULT_LIMITS.max_depth,
    max_archive_size: MaxArchive = DEFAULT_LIMITS.max_archive_size,
    max_entries: MaxEntries = DEFAULT_LIMITS.max_entries,
) -> None:
    """Write the canonical form of SOURCE as a valid JAR to --output (and nowhere else)."""
    limits = _limits(max_entry_size, max_total_size, max_ratio, max_depth, max_archive_size, max_entries)
    res = canonicalize_file(source, output, _select(enable, disable), limits)
    changed = sorted({t.stabilizer for t in res.trace if t.action != "skipped"})
    sys.stdout.write(f"wrote {output} ({output.stat().st_size} bytes); changed by: "
                     f"{', '.join(changed) or 'nothing'}\n")
    for f in res.findings("input"):
        sys.stdout.write(f"finding: {f.code} {f.path}: {f.message}\n")
    if show_noise:
        for t in res.trace:
            detail = t.reason if t.action == "skipped" else "; ".join(
                f"{c.field}: {c.old} -> {c.new}" for c in t.changes)
            sys.stdout.write(f"  {t.stabilizer} {t.action} {t.path or '(archive)'}: {detail}\n")


@app.command("stabilizers")
def list_stabilizers(
    enable: EnableOpt = None,
    disable: DisableOpt = None,
) -> None:
    """List every stabilizer: name, scope, category, what it removes and why that is safe."""
    chosen = {s.name for s in _select(enable, disable)}
    for st in all_stabilizers():
        mark = "on " if st.name in chosen else "off"
        opt_in = "" if st.enabled_by_default else " opt-in"
        sys.stdout.write(f"{st.name} [{mark}]{opt_in} scope={st.scope.value} category={st.category.value}\n"
                         f"    removes: {st.removes}\n    safe because: {st.reason}\n")


class ReportCommandFormat(StrEnum):
    """``report --format``: the outcome formats, plus csv for the research report of ``--db``."""

    text = "text"
    json = "json"
    markdown = "markdown"
    html = "html"
    csv = "csv"


@app.command()
def report(
    outcome_file: Annotated[Path | None, typer.Argument(
        metavar="OUTCOME", help="A JSON outcome written by 'compare --format json'.")] = None,
    fmt: Annotated[ReportCommandFormat | None, typer.Option(
        "--format", "-f", help="Outcome: text (default), json, markdown or html. With --db: markdown (default), "
        "csv, json or html.")] = None,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write the report here.")] = None,
    show_noise: Annotated[bool, typer.Option("--show-noise", help="List everything canonicalized.")] = False,
    db: Annotated[Path | None, typer.Option(
        "--db", help="Research report (the paper's tables) of a 'canonjar batch' SQLite database instead.")] = None,
    paper_results: Annotated[list[Path] | None, typer.Option(
        "--paper-results", metavar="PATH", help="With --db: score against the paper's per-artifact results "
        "(JSON; repeatable).")] = None,
) -> None:
    """Re-render a saved outcome without the artifacts, or (--db) write the research report of a batch."""
    if db is not None or paper_results:
        from .research.cli import research_report

        _write_output(research_report(db, outcome_file, fmt, paper_results or [], show_noise), output)
        return
    if outcome_file is None:
        raise UsageError("missing OUTCOME (a JSON outcome) or --db DATABASE")
    if fmt is ReportCommandFormat.csv:
        raise UsageError("--format csv is only for the research report (--db)")
    fmt = fmt or ReportCommandFormat.text
    try:
        text = outcome_file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"{outcome_file}: cannot read ({exc})") from None
    outcome = Outcome.from_json(text)
    _write_output(render(outcome, ReportFormat(fmt.value), show_noise=show_noise), output)
    raise typer.Exit(outcome.exit_code)


@app.command()
def batch(
    paths: Annotated[list[Path], typer.Argument(
        metavar="PATH...", help="Buildspecs, directory trees of them, or list files (one path per line).")],
    rebuild_dir: Annotated[Path, typer.Option(
        "--rebuild-dir", help="Rebuilt artifacts: a Reproducible Central buildcache/ tree, a Maven repository "
        "layout or a flat directory.")],
    reference_repo: Annotated[str, typer.Option(
        "--reference-repo", metavar="URL", help="Maven repository of the published artifacts (https://, "
        "http:// or file://).")] = "https://repo1.maven.org/maven2",
    cache: Annotated[Path | None, typer.Option(
        "--cache", help="Download cache (default: $XDG_CACHE_HOME/canonjar or ~/.cache/canonjar).")] = None,
    db: Annotated[Path | None, typer.Option(
        "--db", help="SQLite results (default: $XDG_DATA_HOME/canonjar/results.sqlite or "
        "~/.local/share/canonjar/results.sqlite).")] = None,
    jobs: Annotated[int | None, typer.Option("--jobs", "-j", help="Worker processes (default: all cores).")] = None,
    executor: Annotated[str | None, typer.Option(
        "--executor", metavar="SPEC", help="'local' (process pool, the default) or dask://HOST:PORT.")] = None,
    retries: Annotated[int, typer.Option("--retries", help="Download attempts per file (transient errors).")] = 4,
    timeout: Annotated[float, typer.Option("--timeout", help="Network timeout per request, in seconds.")] = 60.0,
    chunk_size: Annotated[int, typer.Option(
        "--chunk-size", help="Pairs compared per worker call; rows are committed as each call returns.")] = 4,
    enable: EnableOpt = None,
    disable: DisableOpt = None,
    max_entry_size: MaxEntry = DEFAULT_LIMITS.max_entry_size,
    max_total_size: MaxTotal = DEFAULT_LIMITS.max_total_size,
    max_ratio: MaxRatio = DEFAULT_LIMITS.max_ratio,
    max_depth: MaxDepth = DEFAULT_LIMITS.max_depth,
    max_archive_size: MaxArchive = DEFAULT_LIMITS.max_archive_size,
    max_entries: MaxEntries = DEFAULT_LIMITS.max_entries,
) -> None:
    """Compare every artifact of many releases; one SQLite row each.

    Exit 0 when the batch ran (whatever the verdicts: they are in the database), 2 on bad input, 130 on
    Ctrl-C (every finished artifact is kept; run the same command again to resume).
    """
    from .batch.cli import run_batch_command

    limits = _limits(max_entry_size, max_total_size, max_ratio, max_depth, max_archive_size, max_entries)
    names = tuple(s.name for s in _select(enable, disable))
    try:
        summary = run_batch_command(paths, rebuild_dir=rebuild_dir, reference_repo=reference_repo, cache=cache,
                                    db=db, jobs=jobs, executor=executor, retries=retries, timeout=timeout,
                                    chunk_size=chunk_size, stabilizers=names, limits=limits)
    except KeyboardInterrupt:
        sys.stderr.write("canonjar: batch interrupted; every finished artifact is kept in the database\n")
        raise typer.Exit(130) from None
    sys.stdout.write(summary + "\n")


def main(argv: list[str] | None = None) -> int:
    """Entry point: never a traceback; errors are one line on stderr and exit code 2."""
    command = typer.main.get_command(app)
    try:
        try:
            rv = command.main(args=argv, prog_name="canonjar", standalone_mode=False)
        except typer.Exit as exc:
            return int(getattr(exc, "exit_code", 0))
        except typer.Abort:
            sys.stderr.write("canonjar: error: aborted\n")
            return 2
        except Exception as exc:
            # typer/click usage errors (missing argument, bad option value): one line, exit 2.
            fmt = getattr(exc, "format_message", None)
            if callable(fmt) and isinstance(getattr(exc, "exit_code", None), int):
                msg = str(fmt())
                if type(exc).__name__ == "NoArgsIsHelpError":
                    sys.stderr.write(msg.rstrip("\n") + "\n")
                else:
                    sys.stderr.write(f"canonjar: error: {' '.join(msg.split())}\n")
                return 2
            raise
    except CanonjarError as exc:
        sys.stderr.write(f"canonjar: error: {exc}\n")
        return 2
    except MemoryError:
        sys.stderr.write("canonjar: error: out of memory (lower the limits)\n")
        return 2
    except KeyboardInterrupt:
        sys.stderr.write("canonjar: error: interrupted\n")
        return 2
    except Exception as exc:  # the contract: never a traceback
        if os.environ.get("CANONJAR_DEBUG"):
            raise
        sys.stderr.write(f"canonjar: internal error: {type(exc).__name__}: {exc} "
                         "(set CANONJAR_DEBUG=1 for a traceback)\n")
        return 2
    return int(rv) if isinstance(rv, int) else 0


def run() -> None:
    sys.exit(main())
