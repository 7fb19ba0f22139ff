"""Lay out the example JARs as a tiny Reproducible Central release, for ``canonjar batch``.

Writes ``examples/batch/`` (or ``--out``) from ``reference.jar``, ``rebuild.jar`` and ``tampered.jar``:

- ``content/com/example/hello/hello-1.0.buildspec`` with its ``.buildinfo`` (Maven multi-module form) and
  ``.buildcompare`` (upstream says both JARs are ``ko``, as a byte-for-byte comparison does);
- ``repo/``: a Maven repository holding the published (reference) JARs with ``.sha512`` files;
- ``rebuild/``: the rebuilt JARs: ``hello-1.0.jar`` is ``rebuild.jar`` (noise only) and
  ``hello-tools-1.0.jar`` is ``tampered.jar`` (one string constant changed).

Then, from the repository root::

    canonjar batch examples/batch/content --reference-repo file://$PWD/examples/batch/repo \\
        --rebuild-dir examples/batch/rebuild --db results.sqlite --cache .canonjar-cache
    canonjar report --db results.sqlite --format markdown
"""

from __future__ import annotations

import argparse
import hashlib
import shutil
from pathlib import Path

HERE = Path(__file__).resolve().parent

BUILDSPEC = """groupId=com.example
artifactId=hello
version=1.0

display=${groupId}:${artifactId}
gitRepo=https://example.org/hello.git
gitTag=v${version}

tool=mvn-3.9.9
jdk=17
newline=lf

command="mvn -Papache-release clean package -DskipTests -Dmaven.javadoc.skip -Dgpg.skip"
buildinfo=target/${artifactId}-${version}.buildinfo
"""


def _sha512(path: Path) -> str:
    return hashlib.sha512(path.read_bytes()).hexdigest()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=HERE / "batch")
    args = parser.parse_args(argv)
    out: Path = args.out
    if out.exists():
        shutil.rmtree(out)
    # (artifactId, published JAR, rebuilt JAR)
    arts = [("hello", HERE / "reference.jar", HERE / "rebuild.jar"),
            ("hello-tools", HERE / "reference.jar", HERE / "tampered.jar")]
    spec_dir = out / "content" / "com" / "example" / "hello"
    spec_dir.mkdir(parents=True)
    (spec_dir / "hello-1.0.buildspec").write_text(BUILDSPEC)
    info = ["buildinfo.version=1.0-SNAPSHOT", "", "name=hello", "group-id=com.example", "artifact-id=hello",
            "version=1.0", "", "build-tool=mvn", "java.version=17", "os.name=Unix", ""]
    for i, (art, ref, reb) in enumerate(arts):
        name = f"{art}-1.0.jar"
        repo_dir = out / "repo" / "com" / "example" / art / "1.0"
        repo_dir.mkdir(parents=True)
        shutil.copyfile(ref, repo_dir / name)
        (repo_dir / f"{name}.sha512").write_text(_sha512(ref) + "\n")
        (out / "rebuild").mkdir(exist_ok=True)
        shutil.copyfile(reb, out / "rebuild" / name)
        info += [f"outputs.{i}.coordinates=com.example:{art}", "",
                 f"outputs.{i}.0.groupId=com.example", f"outputs.{i}.0.filename={name}",
                 f"outputs.{i}.0.length={reb.stat().st_size}", f"outputs.{i}.0.checksums.sha512={_sha512(reb)}", ""]
    (spec_dir / "hello-1.0.buildinfo").write_text("\n".join(info))
    names = " ".join(f"{a}-1.0.jar" for a, _r, _b in arts)
    compare = ["version=1.0", "ok=0", f"ko={len(arts)}", 'okFiles=""', f'koFiles="{names}"']
    compare += [f"# diffoscope central/com/example/{a}/1.0/{a}-1.0.jar buildcache/hello/target/{a}-1.0.jar"
                for a, _r, _b in arts]
    (spec_dir / "hello-1.0.buildcompare").write_text("\n".join(compare) + "\n")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
