"""jar-signature: JAR signatures (signature files and the per-entry digests in the manifest).

Removes: the signature files directly under ``META-INF/`` (``*.SF``, ``*.RSA``, ``*.DSA``, ``*.EC`` and
``SIG-*`` with an extension of at most three letters or digits, any case, exactly as
``java.util.jar.JarFile`` recognizes them) and, in the per-entry (``Name:``) sections of
``META-INF/MANIFEST.MF``, the ``*-Digest`` and ``*-Digest-Manifest`` attributes that ``jarsigner`` adds. A
per-entry section that held only digests is dropped; a section with any other attribute is kept with them.
No other file is removed, ``META-INF/`` subdirectories are never touched, and the main section of the
manifest is left as it is.

Why: a rebuild cannot reproduce the publisher's signature (it needs the private key), so a signed artifact
and its unsigned rebuild always differ there. With this stabilizer the comparison IGNORES signatures: it
tells whether the signed content is the same software, not whether it was signed, by whom, or whether the
signature is valid. Signing does change behaviour (``CodeSource`` certificates, ``Class.getSigners()``, the
signed-package check, security policy), so the removal is never silent: the files removed are recorded as
evidence ``signature-removed`` on the side that had them (and ``manifest-digests-removed`` with the number
of digest attributes), and every removal appears in the trace. Every entry's content is still compared
directly, so a tampered entry remains a difference.
"""

from __future__ import annotations

import re

from ..formats.manifest import Attribute, Manifest, Section, is_manifest_name, load_for_stabilizer
from ..model import Archive, Entry, Payload
from ..pipeline import Context, Scope, Stabilizer
from ..taxonomy import Category

_DIGEST_RE = re.compile(r".+-digest(-manifest)?", re.IGNORECASE)
_SIG_EXT_RE = re.compile(r"[A-Z0-9]{1,3}")


def is_signature_file(name: bytes) -> bool:
    """True for signature-related files as ``JarFile`` recognizes them (directly under ``META-INF/``)."""
    upper = name.upper()
    if not upper.startswith(b"META-INF/"):
        return False
    base = upper[len(b"META-INF/"):]
    if not base or b"/" in base:
        return False
    if base.endswith((b".SF", b".RSA", b".DSA", b".EC")):
        return True
    if base.startswith(b"SIG-"):
        dot = base.rfind(b".")
        return dot < 0 or bool(_SIG_EXT_RE.fullmatch(base[dot + 1:].decode("latin-1")))
    return False


def is_digest_attribute(a: Attribute) -> bool:
    return bool(_DIGEST_RE.fullmatch(a.name))


def strip_digests(manifest: Manifest) -> tuple[Manifest, int]:
    """``manifest`` without the digest attributes of its per-entry sections, and how many were removed."""
    removed = 0
    sections = [manifest.main]
    for s in manifest.entries:
        kept = s.attributes[:1] + tuple(a for a in s.attributes[1:] if not is_digest_attribute(a))
        dropped = len(s.attributes) - len(kept)
        removed += dropped
        if dropped and len(kept) == 1:
            continue  # only the Name header is left: drop the section (and the blank lines after it)
        sections.append(s if not dropped else Section(kept, s.separator))
    return manifest.with_sections(tuple(sections)), removed


def _apply(arc: Archive, ctx: Context) -> Archive:
    sig_files = [e for e in arc.entries if not e.is_dir and is_signature_file(e.name)]
    out: list[Entry] = []
    digests = 0
    manifests: list[tuple[Entry, int]] = []
    for e in arc.entries:
        new = e
        if is_manifest_name(e.name) and not e.is_dir:
            _data, manifest = load_for_stabilizer(e, ctx)
            stripped, n = strip_digests(manifest)
            if n:
                digests += n
                manifests.append((e, n))
                new = e.replace(payload=Payload.of_bytes(stripped.to_bytes(), e.payload.what))
        out.append(new)
    if not sig_files and not digests:
        return arc
    removed = {id(e) for e in sig_files}
    if sig_files:
        ctx.record("signature-removed", ", ".join(sorted(e.path for e in sig_files)))
    for e, n in manifests:
        ctx.record("manifest-digests-removed", str(n), e)
    return arc.replace(entries=tuple(e for e in out if id(e) not in removed))


STABILIZER = Stabilizer(
    name="jar-signature",
    scope=Scope.ARCHIVE,
    category=Category.BUILD_MANIFESTS,
    removes="signature files directly under META-INF/ (*.SF, *.RSA, *.DSA, *.EC, SIG-*) and the per-entry "
            "*-Digest attributes of the manifest, recording what was removed as evidence",
    reason="a rebuild cannot reproduce the publisher's signature; the comparison then ignores signatures and "
           "still compares every signed entry's content",
    apply=_apply,
)
