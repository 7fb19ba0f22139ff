"""Byte-faithful codecs of the file formats stabilizers rewrite (MANIFEST.MF, .properties, ...)."""
