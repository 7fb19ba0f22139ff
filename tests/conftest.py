from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.helpers import jdk_tool

HELLO_MAIN = """\
package demo;

import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.function.Function;

public class Main {
    public static void main(String[] args) throws Exception {
        Function<String, String> greet = s -> "hello, " + s;
        System.out.println(greet.apply(Util.name()));
        try (InputStream in = Main.class.getResourceAsStream("/demo/message.txt")) {
            System.out.println(new String(in.readAllBytes(), StandardCharsets.UTF_8).trim());
        }
        Package p = Main.class.getPackage();
        System.out.println("impl=" + p.getImplementationVersion());
    }
}
"""

HELLO_UTIL = """\
package demo;

public class Util {
    public static String name() { return "canonjar"; }
}
"""


@pytest.fixture(scope="session")
def hello_jar(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real runnable JAR built with javac and jar (skips when no JDK is installed)."""
    javac, jar = jdk_tool("javac"), jdk_tool("jar")
    if javac is None or jar is None:
        pytest.skip("no JDK (javac/jar) installed")
    root = tmp_path_factory.mktemp("hello")
    src = root / "src" / "demo"
    src.mkdir(parents=True)
    (src / "Main.java").write_text(HELLO_MAIN)
    (src / "Util.java").write_text(HELLO_UTIL)
    classes = root / "classes"
    subprocess.run([javac, "--release", "11", "-d", str(classes), str(src / "Main.java"), str(src / "Util.java")],
                   check=True, capture_output=True)
    (classes / "demo" / "message.txt").write_text("resource says hi\n")
    manifest = root / "MANIFEST.MF"
    manifest.write_text("Main-Class: demo.Main\nImplementation-Version: 1.2.3\n")
    out = root / "hello.jar"
    subprocess.run([jar, "--create", "--file", str(out), "--manifest", str(manifest), "-C", str(classes), "."],
                   check=True, capture_output=True)
    return out
