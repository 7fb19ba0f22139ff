"""Shared scenario of the batch tests (no tests here): a release whose artifacts cover every verdict.

``build_scenario`` writes, under one directory:

- ``content/com/example/demo-1.0.buildspec`` + ``demo-1.0.buildinfo`` + ``demo-1.0.buildcompare``
  (Reproducible Central files, as upstream writes them) and a malformed ``bad-1.0.buildspec``;
- ``mirror/``: a Maven repository with the reference files and their ``.sha512``/``.sha1`` files (one wrong);
- ``buildcache/demo/``: the rebuild tree (``target/`` holding the rebuilt files, one missing).

The JARs are built here with zipfile from the bundled example's classes: the rebuild of ``demo-1.0.jar``
is the same files zipped again with other order, timestamps, modes and compression (noise only); the
``-tampered`` rebuild has one string constant of a class changed (a real, valid, different class file).
"""

from __future__ import annotations

import hashlib
import http.server
import threading
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from canonjar.rc.model import ArtifactJob, Buildspec, DiffoscopeLine, RcParseError, Release, UpstreamStatus
from tests.helpers import Item, make_zip

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
GROUP = "com.example"
ARTIFACT = "demo"
VERSION = "1.0"

#: file name -> (expected verdict, upstream ok/ko list, upstream stabilize list)
EXPECTED: dict[str, tuple[str, str, str]] = {
    "demo-1.0.jar": ("equivalent", "ko", "ok"),
    "demo-1.0-tampered.jar": ("different", "ko", "ko"),
    "demo-1.0-gone.jar": ("missing-rebuild", "ko", "ko"),
    "demo-1.0-same.jar": ("identical", "ok", "ok"),
    "demo-1.0.pom": ("identical", "ok", "ok"),
    "demo-1.0-absent.jar": ("missing-reference", "ko", "ko"),
    "demo-1.0-badsum.jar": ("error", "ko", "ko"),
    "demo-1.0-flaky.jar": ("equivalent", "ko", "ok"),
    "demo-1.0-skipped.jar": ("ignored", "ignored", "ignored"),
    "demo-1.0-sha.jar": ("equivalent", "ok", "ok"),  # rebuild sha512 differs from the .buildinfo's
}


def _example_entries() -> list[tuple[str, bytes]]:
    with zipfile.ZipFile(EXAMPLES / "reference.jar") as zf:
        return [(i.filename, zf.read(i)) for i in zf.infolist()]


def reference_jar(tag: str) -> bytes:
    """A JAR like the one the jar tool writes, with a resource naming ``tag`` (so every artifact differs)."""
    items = [Item(n, d, date_time=(2024, 5, 6, 7, 8, 10)) for n, d in _example_entries()]
    items.append(Item("demo/id.txt", f"artifact {tag}\n".encode(), date_time=(2024, 5, 6, 7, 8, 10)))
    return make_zip(items)


def noisy_rebuild(tag: str) -> bytes:
    """The same files as :func:`reference_jar`, zipped again: reversed order, other times/modes/compression."""
    entries = [*_example_entries(), ("demo/id.txt", f"artifact {tag}\n".encode())]
    items = [Item(n, d, date_time=(2025, 1, 1, 0, 0, 0), mode=0o664, method=zipfile.ZIP_STORED)
             for n, d in reversed(entries)]
    return make_zip(items)


def tampered_rebuild(tag: str) -> bytes:
    """The noisy rebuild with one string constant of a class file changed (same length, valid class)."""
    entries = [*_example_entries(), ("demo/id.txt", f"artifact {tag}\n".encode())]
    out = []
    changed = False
    for name, data in entries:
        new = data
        if name.endswith(".class") and b"Hello" in data and not changed:
            new = data.replace(b"Hello", b"Jello", 1)
            changed = True
        out.append(Item(name, new, date_time=(2025, 1, 1, 0, 0, 0)))
    assert changed, "no class with a Hello constant in the example JAR"
    return make_zip(out)


POM = b"<project><modelVersion>4.0.0</modelVersion><groupId>com.example</groupId></project>\n"


@dataclass
class Scenario:
    root: Path
    content: Path
    mirror: Path
    rebuild: Path
    buildspec: Path
    bad_buildspec: Path
    references: dict[str, bytes]
    rebuilds: dict[str, bytes]

    @property
    def mirror_url(self) -> str:
        return self.mirror.as_uri()

    def releases(self) -> list[Release | RcParseError]:
        """The same release built directly from the model (independent of the parsers)."""
        jobs = []
        for name, (_, up, up_stab) in EXPECTED.items():
            data = self.rebuilds.get(name, b"")
            sha = hashlib.sha512(data).hexdigest() if name in self.rebuilds else None
            if name == "demo-1.0-sha.jar":
                sha = "0" * 128
            diff = None
            if name == "demo-1.0-tampered.jar":
                diff = DiffoscopeLine(f"target/reference/{GROUP}/{name}", f"target/{name}")
            jobs.append(ArtifactJob("content/com/example/demo-1.0.buildspec", GROUP, ARTIFACT, VERSION, name,
                                    len(data) if data else None, sha, UpstreamStatus(up), UpstreamStatus(up_stab),
                                    diff))
        spec = Buildspec(str(self.buildspec), {"groupId": GROUP, "artifactId": ARTIFACT, "version": VERSION})
        release = Release(self.buildspec, "content/com/example/demo-1.0.buildspec", spec, (), None, tuple(jobs))
        return [release, RcParseError(str(self.bad_buildspec), 3, "not an assignment: rm -rf /")]


def _write_checksums(path: Path, data: bytes, wrong: bool = False) -> None:
    sha512 = hashlib.sha512(data).hexdigest()
    if wrong:
        sha512 = hashlib.sha512(data + b"x").hexdigest()
    path.with_name(path.name + ".sha512").write_text(f"{sha512}  {path.name}\n")
    path.with_name(path.name + ".sha1").write_text(hashlib.sha1(data).hexdigest() + "\n")


def build_scenario(root: Path) -> Scenario:
    content = root / "content"
    mirror = root / "mirror"
    rebuild = root / "buildcache"
    refs: dict[str, bytes] = {}
    rebs: dict[str, bytes] = {}
    for name in EXPECTED:
        if name.endswith(".pom"):
            refs[name] = rebs[name] = POM
        elif name == "demo-1.0-same.jar":
            refs[name] = rebs[name] = reference_jar(name)
        elif name == "demo-1.0-tampered.jar":
            refs[name], rebs[name] = reference_jar(name), tampered_rebuild(name)
        else:
            refs[name], rebs[name] = reference_jar(name), noisy_rebuild(name)
    del rebs["demo-1.0-gone.jar"]
    del refs["demo-1.0-absent.jar"]
    repo_dir = mirror / "com" / "example" / ARTIFACT / VERSION
    repo_dir.mkdir(parents=True)
    for name, data in refs.items():
        (repo_dir / name).write_bytes(data)
        _write_checksums(repo_dir / name, data, wrong=name == "demo-1.0-badsum.jar")
    (repo_dir / "demo-1.0.pom.sha512").unlink()  # only .sha1 for the pom: the fallback is used
    target = rebuild / ARTIFACT / "target"
    target.mkdir(parents=True)
    for name, data in rebs.items():
        (target / name).write_bytes(data)
    content_dir = content / "com" / "example"
    content_dir.mkdir(parents=True)
    spec = content_dir / "demo-1.0.buildspec"
    spec.write_text(f"groupId={GROUP}\nartifactId={ARTIFACT}\nversion={VERSION}\n\n"
                    "gitRepo=https://example.invalid/${artifactId}.git\ngitTag=${version}\n\ntool=mvn-3.9.6\n"
                    "jdk=17\nnewline=lf\n\ncommand=\"mvn clean package -DskipTests\"\n"
                    "buildinfo=target/${artifactId}-${version}.buildinfo\n")
    lines = ["buildinfo.version=1.0-SNAPSHOT", "", f"group-id={GROUP}", f"artifact-id={ARTIFACT}",
             f"version={VERSION}", "", "java.version=17", "os.name=Unix", ""]
    for i, name in enumerate(EXPECTED):
        data = rebs.get(name, refs.get(name, b""))
        sha = "0" * 128 if name == "demo-1.0-sha.jar" else hashlib.sha512(data).hexdigest()
        lines += [f"outputs.{i}.groupId={GROUP}", f"outputs.{i}.filename={name}", f"outputs.{i}.length={len(data)}",
                  f"outputs.{i}.checksums.sha512={sha}", ""]
    (content_dir / "demo-1.0.buildinfo").write_text("\n".join(lines))
    ok = [n for n, (_, up, _) in EXPECTED.items() if up == "ok"]
    ko = [n for n, (_, up, _) in EXPECTED.items() if up == "ko"]
    ign = [n for n, (_, up, _) in EXPECTED.items() if up == "ignored"]
    sok = [n + ".stabilized" for n, (_, _, s) in EXPECTED.items() if s == "ok"]
    sko = [n + ".stabilized" for n, (_, _, s) in EXPECTED.items() if s == "ko"]
    cmp_lines = [f"version={VERSION}", f"ok={len(ok)}", f"ko={len(ko)}", f"ignored={len(ign)}",
                 f'okFiles="{" ".join(ok)}"', f'koFiles="{" ".join(ko)}"', f'ignoredFiles="{" ".join(ign)}"',
                 f"# diffoscope target/reference/{GROUP}/demo-1.0-tampered.jar target/demo-1.0-tampered.jar",
                 f"stabilize_ok={len(sok)}", f"stabilize_ko={len(sko)}", f"stabilize_ignored={len(ign)}",
                 f'stabilize_okFiles="{" ".join(sok)}"', f'stabilize_koFiles="{" ".join(sko)}"',
                 f'stabilize_ignoredFiles="{" ".join(ign)}"', ""]
    (content_dir / "demo-1.0.buildcompare").write_text("\n".join(cmp_lines))
    bad = content_dir / "bad-1.0.buildspec"
    bad.write_text("groupId=com.example\nartifactId=bad\nrm -rf /\nversion=1.0\n")
    return Scenario(root, content, mirror, rebuild, spec, bad, refs, rebs)


class _Handler(http.server.SimpleHTTPRequestHandler):
    """Serves the mirror; the first GET of each path in ``server.flaky`` answers 503."""

    def do_GET(self) -> None:
        server = self.server
        flaky: set[str] = server.flaky  # type: ignore[attr-defined]
        hits: list[str] = server.hits  # type: ignore[attr-defined]
        hits.append(self.path)
        if self.path in flaky:
            flaky.discard(self.path)
            self.send_error(503, "try again")
            return
        super().do_GET()

    def log_message(self, format: str, *args: object) -> None:
        return


@contextmanager
def serve(directory: Path, flaky: set[str]) -> Iterator[tuple[str, list[str]]]:
    """An HTTP server on 127.0.0.1 serving ``directory``; yields its base URL and the request log."""

    def handler(*args: object, **kwargs: object) -> _Handler:
        return _Handler(*args, directory=str(directory), **kwargs)  # type: ignore[arg-type]

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    httpd.flaky = set(flaky)  # type: ignore[attr-defined]
    httpd.hits = []  # type: ignore[attr-defined]
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", httpd.hits  # type: ignore[attr-defined]
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(5)


def build_many(root: Path, count: int, extra_entries: int) -> Scenario:
    """One release of ``count`` JAR artifacts (noise-only rebuilds), each with ``extra_entries`` resources."""
    content_dir = root / "content" / "org" / "many"
    content_dir.mkdir(parents=True)
    repo_dir = root / "mirror" / "org" / "many" / "many" / "1.0"
    repo_dir.mkdir(parents=True)
    target = root / "buildcache" / "many" / "target"
    target.mkdir(parents=True)
    refs: dict[str, bytes] = {}
    rebs: dict[str, bytes] = {}
    lines = ["buildinfo.version=1.0-SNAPSHOT", "group-id=org.many", "artifact-id=many", "version=1.0", ""]
    for i in range(count):
        name = f"many-1.0-c{i:03d}.jar"
        files = [(f"res/r{j:04d}.txt", f"artifact {i} resource {j}\n".encode() * 20) for j in range(extra_entries)]
        refs[name] = make_zip([Item(n, d, date_time=(2024, 1, 1, 0, 0, 0)) for n, d in files])
        rebs[name] = make_zip([Item(n, d, date_time=(2025, 2, 2, 0, 0, 0), mode=0o664) for n, d in reversed(files)])
        (repo_dir / name).write_bytes(refs[name])
        _write_checksums(repo_dir / name, refs[name])
        (target / name).write_bytes(rebs[name])
        lines += [f"outputs.{i}.groupId=org.many", f"outputs.{i}.filename={name}",
                  f"outputs.{i}.length={len(rebs[name])}",
                  f"outputs.{i}.checksums.sha512={hashlib.sha512(rebs[name]).hexdigest()}", ""]
    spec = content_dir / "many-1.0.buildspec"
    spec.write_text("groupId=org.many\nartifactId=many\nversion=1.0\ntool=mvn\njdk=17\nnewline=lf\n"
                    "buildinfo=target/${artifactId}-${version}.buildinfo\n")
    (content_dir / "many-1.0.buildinfo").write_text("\n".join(lines))
    return Scenario(root, root / "content", root / "mirror", root / "buildcache", spec, spec, refs, rebs)
