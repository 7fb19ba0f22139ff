"""The root-cause table: one place, one row per cause (id, category, description, mitigation, hint)."""

from __future__ import annotations

from dataclasses import dataclass

from . import Category, Mitigation

__all__ = ["ROOT_CAUSES", "UNKNOWN", "RootCause", "root_cause"]

_BM = Category.BUILD_MANIFESTS
_SB = Category.SBOM
_FS = Category.FILESYSTEM
_JB = Category.JVM_BYTECODE
_VP = Category.VERSIONING_PROPERTIES
_TS = Category.TIMESTAMPS
_MI = Category.MISCELLANEOUS
_FB = Mitigation.FIX_BUILD
_FR = Mitigation.FIX_REBUILD
_CA = Mitigation.CANONICALIZE


@dataclass(frozen=True)
class RootCause:
    """One concrete cause of unreproducibility: ``id`` (kebab-case), its category, what it is, the paper's
    mitigation kind and a concrete one-line hint."""

    id: str
    category: Category
    description: str
    mitigation: Mitigation
    hint: str


UNKNOWN = "unknown"

ROOT_CAUSES: tuple[RootCause, ...] = (
    # ------------------------------------------------------------------ build manifests
    RootCause("built-by", _BM, "Built-By (or Build-User) records the user name of whoever ran the build.", _FB,
              "drop Built-By: maven-archiver 3.6+ omits it with project.build.outputTimestamp, or "
              "<addDefaultEntries>false</addDefaultEntries>"),
    RootCause("build-jdk", _BM, "Build-Jdk, Build-Jdk-Spec or a JDK-style Created-By records the JDK version.",
              _FR, "rebuild with the JDK version of the reference's Build-Jdk (see the build-jdk evidence)"),
    RootCause("jdk-vendor", _BM, "Created-By '(vendor)' or Build-Jdk-Vendor records the JDK distribution.", _FR,
              "rebuild with the same JDK distribution (Temurin, Zulu, Oracle...) as the reference"),
    RootCause("build-tool-version", _BM, "Created-By, Tool, Ant-Version, Gradle-Version... record the build tool "
              "and plugin versions.", _FR, "rebuild with the reference's Maven/Gradle/bnd version (use the "
              "wrapper: mvnw, gradlew)"),
    RootCause("os-version", _BM, "Build-OS, OS-Name, OS-Version, OS-Arch record the build machine's operating "
              "system.", _FR, "rebuild on the reference's OS, or stop writing OS attributes into the manifest"),
    RootCause("build-environment", _BM, "Build host, CI job and build number attributes (Build-Host, "
              "Jenkins-Build-Number, CI-*...).", _FB, "do not write host or CI job attributes into the manifest"),
    RootCause("manifest-build-time", _BM, "Build dates in the manifest (Bnd-LastModified, Build-Time, "
              "Build-Date...).", _FB, "set project.build.outputTimestamp; bnd: -reproducible: true / "
              "-noextraheaders"),
    RootCause("scm-revision", _BM, "SCM revision or branch in the manifest (SCM-Revision, Git-Commit-Id, "
              "SCM-Branch...).", _FR, "rebuild from the commit and branch the reference's manifest records"),
    RootCause("manifest-attribute-order", _BM, "Manifest attributes or per-entry sections written in another "
              "order.", _CA, "canonicalize (manifest-attribute-order); newer maven-archiver and bnd sort them"),
    RootCause("osgi-value-order", _BM, "OSGi header clauses (Export-Package, Import-Package...) listed in another "
              "order.", _CA, "canonicalize (manifest-value-order); bnd 5+ with -reproducible: true sorts them"),
    RootCause("manifest-line-wrapping", _BM, "Manifest line wrapping or line endings differ (JDK, bnd, Gradle "
              "and hand-written manifests wrap differently).", _CA, "canonicalize (manifest-layout)"),
    RootCause("manifest-attribute-value", _BM, "Another manifest attribute differs (version, vendor, Class-Path, "
              "Main-Class...): usually a real difference of the project or its dependencies.", _FR,
              "compare the attribute values; rebuild the exact released version with the same dependencies"),
    RootCause("jar-signature", _BM, "JAR signature files and per-entry digests: a rebuild cannot reproduce the "
              "publisher's signature.", _CA, "compare the unsigned content (jar-signature); the rebuilder cannot "
              "sign with the publisher's key"),
    # ------------------------------------------------------------------ SBOM
    RootCause("sbom-serial-number", _SB, "A random serialNumber / documentNamespace UUID, new for every SBOM "
              "generator run.", _CA, "canonicalize (sbom-cyclonedx, sbom-spdx); cyclonedx-maven-plugin 2.7.9+ "
              "derives it reproducibly"),
    RootCause("sbom-timestamp", _SB, "The SBOM's metadata.timestamp / creationInfo.created.", _FB,
              "set project.build.outputTimestamp (cyclonedx-maven-plugin 2.7.9+ uses it)"),
    RootCause("sbom-tool-version", _SB, "The version of the tool that wrote the SBOM.", _FR,
              "rebuild with the reference's SBOM plugin version (see sbom-tool-version evidence)"),
    RootCause("sbom-hash-algorithms", _SB, "The set of hash algorithms of SBOM components, which depends on the "
              "JDK vendor's security providers (e.g. SHA3 missing).", _FR,
              "rebuild with the reference's JDK vendor (see sbom-hash-algorithms evidence)"),
    RootCause("sbom-component-set", _SB, "The SBOM lists other components or versions: dependency resolution "
              "differed.", _FR, "pin dependency versions and rebuild with the reference's repositories and "
              "profiles"),
    RootCause("sbom-run-metadata", _SB, "Per-run SBOM values removed by a stabilizer that have no more specific "
              "cause (the order of components, dependencies and hashes; serial number, timestamp and tool "
              "versions are named by their own causes).", _CA,
              "canonicalize (sbom-cyclonedx, sbom-spdx)"),
    # ------------------------------------------------------------------ filesystem
    RootCause("umask-permissions", _FS, "Unix file modes come from the build machine's umask.", _FB,
              "set a fixed umask (022) for the build, or fileMode/dirMode in the archiver"),
    RootCause("ownership", _FS, "Unix uid/gid extra fields record the account that ran the build.", _CA,
              "canonicalize (zip-ownership); do not package with Info-ZIP as a different user"),
    RootCause("file-order", _FS, "Entries written in another order (file-system enumeration, parallel "
              "packaging).", _FB, "Gradle: reproducibleFileOrder = true; Maven plugins 3.x+ sort entries"),
    RootCause("directory-entries", _FS, "Explicit directory entries written by one tool and not the other.", _CA,
              "canonicalize (zip-directory-entries)"),
    RootCause("absolute-paths", _FS, "Absolute build paths (/home/user/..., C:\\...) embedded in files.", _FB,
              "build in a fixed directory, or strip paths (-Dmaven.compiler.debuglevel, "
              "-fdebug-prefix-map)"),
    RootCause("missing-files", _FS, "Files present on one side only: another profile, OS, generator or "
              "dependency set.", _FR, "rebuild with the reference's profiles and properties; check generated "
              "and OS-specific resources"),
    RootCause("zip-timestamps", _FS, "Zip entry modification times record when the build ran.", _FB,
              "set project.build.outputTimestamp (Maven) or preserveFileTimestamps = false (Gradle)"),
    RootCause("zip-compression", _FS, "Compression method, level or deflater implementation differ.", _CA,
              "canonicalize (zip-compression); the JDK's and other deflaters produce different bytes"),
    RootCause("zip-extra-fields", _FS, "Zip extra fields (JAR magic 0xCAFE, zip64, alignment, vendor fields).",
              _CA, "canonicalize (zip-extra-fields)"),
    RootCause("zip-host-version", _FS, "The zip 'version made by' / host system and 'version needed' fields "
              "(which zip library and OS wrote the archive).", _CA, "canonicalize (zip-host-version)"),
    RootCause("zip-data-descriptor", _FS, "Streamed entries with data descriptors versus sizes in the local "
              "header.", _CA, "canonicalize (zip-data-descriptor)"),
    RootCause("zip-utf8-flag", _FS, "The UTF-8 name flag (bit 11) set by one zip writer and not the other.", _CA,
              "canonicalize (zip-utf8-flag)"),
    RootCause("zip-comments", _FS, "Archive or entry comments added by a zip writer.", _CA,
              "canonicalize (zip-comments)"),
    # ------------------------------------------------------------------ JVM bytecode
    RootCause("constant-pool-order", _JB, "The same constant-pool entries in another order (compiler version or "
              "annotation processor order).", _FR, "rebuild with the reference's exact JDK; sort annotation "
              "processors"),
    RootCause("member-order", _JB, "The same fields or methods in another order (compiler, Kotlin/Scala or "
              "bytecode-generating plugins).", _FR, "rebuild with the reference's compiler and plugin versions"),
    RootCause("lambda-naming", _JB, "Synthetic lambda methods numbered differently (lambda$main$0 vs "
              "lambda$main$1).", _FR, "rebuild with the reference's exact javac; avoid non-deterministic "
              "annotation processors"),
    RootCause("jdk-idioms", _JB, "A JDK-version idiom differs (indy string concatenation, nest-based access, "
              "enum $values()...).", _FR, "rebuild with the reference's JDK major version and --release"),
    RootCause("jdk-version-bytecode", _JB, "Class files compiled by another JDK version (class file version or "
              "Build-Jdk evidence differs).", _FR, "rebuild with the JDK of the reference's Build-Jdk / Created-By"),
    RootCause("debug-info", _JB, "Debug information differs (LineNumberTable, LocalVariableTable, SourceFile): "
              "other compiler flags.", _FB, "pin maven.compiler.debug / debuglevel (-g) in the build"),
    RootCause("java-compiler", _JB, "Class files produced by another Java compiler (javac vs Eclipse ecj: "
              "ENUM$VALUES, $SWITCH_TABLE$, lambda$0 naming...).", _FR, "rebuild with the reference's compiler "
              "(javac or ecj/Tycho) and its version"),
    RootCause("bytecode-change", _JB, "The code or structure of a class differs (instructions, constants, "
              "members, flags, annotations) and no known idiom explains it: the rebuild is not the same software "
              "until shown otherwise.", Mitigation.INVESTIGATE, "read the structural class diff; rebuild from the "
              "exact sources and dependencies of the reference"),
    # ------------------------------------------------------------------ versioning properties
    RootCause("pom-properties-order", _VP, "pom.properties keys written in another order (hash-map order of old "
              "Maven).", _CA, "canonicalize (pom-properties); maven-archiver 3.5+ sorts the keys"),
    RootCause("pom-properties-timestamp", _VP, "The Properties.store date comment in pom.properties.", _FB,
              "set project.build.outputTimestamp (maven-archiver 3.5+ omits the date)"),
    RootCause("pom-properties-m2e", _VP, "Eclipse m2e keys (m2e.projectLocation, m2e.projectName) in "
              "pom.properties: the artifact was built in the IDE.", _FB, "release from the command line, not "
              "from Eclipse"),
    RootCause("pom-properties-maven-version", _VP, "The '#Created by Apache Maven x.y.z' comment of "
              "pom.properties.", _FR, "rebuild with the reference's Maven version (see maven-version "
              "evidence)"),
    RootCause("pom-properties-generated", _VP, "Maven-generated pom.properties noise removed by a stabilizer that "
              "has no more specific cause (the '#Generated by Maven' comment; date comment, key order, m2e keys "
              "and Maven version are named by their own causes).", _CA,
              "canonicalize (pom-properties)"),
    RootCause("version-mismatch", _VP, "The project version (groupId:artifactId:version) differs: another "
              "release was rebuilt.", _FR, "rebuild the exact released version (see the gav evidence)"),
    RootCause("git-properties-keys", _VP, "git.properties build keys (build.time, build.host, build.user, branch, "
              "tags, commit counts, time zone).", _FB, "git-commit-id-maven-plugin: <excludeProperties> or "
              "<includeOnlyProperties>git.commit.id</includeOnlyProperties>, dateFormatTimeZone"),
    RootCause("embedded-commit", _VP, "The embedded commit, branch or dirty flag differs: built from another "
              "checkout.", _FR, "rebuild from the clean checkout of the commit the reference records "
              "(git-commit evidence)"),
    # ------------------------------------------------------------------ timestamps
    RootCause("properties-timestamp", _TS, "A build date in a .properties file (Properties.store comment or a "
              "generated build.time value).", _FB, "derive it from project.build.outputTimestamp, or drop it"),
    RootCause("javadoc-timestamp", _TS, "The javadoc generation date in HTML pages.", _FB,
              "run javadoc with -notimestamp (maven-javadoc-plugin: <notimestamp>true</notimestamp>)"),
    RootCause("script-timestamp", _TS, "A build date embedded in a generated script (.sh, .bat, .cmd...).", _FB,
              "derive script dates from SOURCE_DATE_EPOCH / project.build.outputTimestamp"),
    RootCause("bytecode-timestamp", _TS, "A build date compiled into a class file constant (generated "
              "BuildInfo, templating plugins).", _FB, "generate build-info classes from "
              "project.build.outputTimestamp"),
    RootCause("notice-timestamp", _TS, "A date or year in NOTICE, LICENSE or README files (copyright year "
              "computed at build time).", _FB, "derive the year from project.build.outputTimestamp, or write it "
              "literally"),
    RootCause("servlet-timestamp", _TS, "Timestamps in servlets precompiled from JSPs (Jasper "
              "_jspx_dependants last-modified values).", _FB, "precompile JSPs with fixed source modification "
              "times, or ship JSPs uncompiled"),
    RootCause("resource-timestamp", _TS, "A build date in another generated resource (version.txt, build-info "
              "JSON/XML...).", _FB, "derive it from project.build.outputTimestamp / SOURCE_DATE_EPOCH"),
    # ------------------------------------------------------------------ miscellaneous
    RootCause("newline-style", _MI, "Line endings or formatting of text/sources differ (CRLF Windows checkout, "
              "code formatters).", _FB, "set .gitattributes eol=lf (core.autocrlf=false) and rebuild from the "
              "same checkout"),
    RootCause("bundled-javascript", _MI, "Bundled or minified JavaScript/CSS differs (npm/webpack build inside "
              "the Java build).", _FB, "pin the Node/npm toolchain and lock file; make the bundler "
              "deterministic"),
    RootCause("index-files", _MI, "Generated index files differ (jandex.idx, INDEX.LIST, sisu/plexus "
              "indexes).", _FR, "rebuild with the reference's index plugin version; sort inputs"),
    RootCause("uuids", _MI, "Random UUIDs generated at build time.", _FB,
              "derive identifiers from content or the version instead of random UUIDs"),
    RootCause("os-specific-binaries", _MI, "Native libraries or executables built for or on another OS.", _FR,
              "rebuild on the reference's OS/architecture, or bundle prebuilt natives"),
    RootCause("version-ranges", _MI, "Dependency or plugin versions resolved differently (version ranges, "
              "SNAPSHOTs, unpinned plugins).", _FB, "pin every dependency and plugin version (no ranges, no "
              "SNAPSHOT, no LATEST)"),
    RootCause("javadoc-jdk", _MI, "Javadoc pages generated by another JDK version (layout, HTML version, "
              "search index).", _FR, "rebuild the javadoc with the reference's JDK (see javadoc-jdk evidence)"),
    # ------------------------------------------------------------------ unknown
    RootCause(UNKNOWN, Category.UNKNOWN, "No rule explains this difference; it is reported as is.",
              Mitigation.INVESTIGATE, "inspect it by hand (diffoscope); if it is noise, add a stabilizer or a "
              "taxonomy rule"),
)

_BY_ID: dict[str, RootCause] = {rc.id: rc for rc in ROOT_CAUSES}


def root_cause(cause_id: str) -> RootCause:
    """The row of ``cause_id``; the ``unknown`` row for an id the table does not know."""
    return _BY_ID.get(cause_id, _BY_ID[UNKNOWN])
