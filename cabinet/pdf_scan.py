"""A cheap look for active content in an uploaded PDF (issue #6, upload abuse).

Patients open the documents of their cabinet in whatever PDF reader they have: a
PDF that runs JavaScript or launches a program, or a file that is a PDF and an
HTML page at once (a polyglot), has no place there. This is no PDF parser: it reads
the PDF's names and text outside stream data (where dictionaries and actions live),
plus the compressed object streams (``/Type /ObjStm``, Flate) where PDF 1.5 files
keep their dictionaries, and looks for

- the names of actions that run code: ``/JavaScript``, ``/JS``, ``/Launch`` (also
  written with ``#xx`` escapes, e.g. ``/J#61vaScript``);
- HTML markup outside streams (``<script``, ``<html``, ``<svg``, ``<!doctype``).

Images and fonts (other streams) are not read: their bytes are data, not PDF syntax.
"""
import re
import zlib

ACTIVE_NAMES = frozenset({b"javascript", b"js", b"launch"})
MARKUP = re.compile(rb"<\s*(?:script|html|svg|!doctype|iframe)\b", re.I)
NAME = re.compile(rb"/([^\x00\t\n\f\r /<>\[\]()%{}]{1,64})")
ESCAPE = re.compile(rb"#([0-9A-Fa-f]{2})")
STREAM = re.compile(rb"(?<!end)stream\r?\n(.*?)endstream", re.S)
#: how much of an object stream is inflated at most (a zip bomb stops there)
MAX_INFLATED = 16 * 1024 * 1024
DICT_WINDOW = 512


def _names(data):
    for match in NAME.finditer(data):
        name = match.group(1)
        if b"#" in name:
            name = ESCAPE.sub(lambda m: bytes([int(m.group(1), 16)]), name)
        yield name.lower()


def _inflate(data):
    inflater = zlib.decompressobj()
    try:
        return inflater.decompress(data, MAX_INFLATED)
    except zlib.error:
        return b""


def active_content(data):
    """What makes ``data`` (a PDF) unsafe to share: ``"/JavaScript"``, ``"HTML"``...
    or None."""
    outside, inflated = [], []
    position = 0
    for match in STREAM.finditer(data):
        before = data[position:match.start()]
        outside.append(before)
        head = before[-DICT_WINDOW:]
        if b"/ObjStm" in head and b"/FlateDecode" in head:
            inflated.append(_inflate(match.group(1)))
        position = match.end()
    outside.append(data[position:])
    syntax = b"\n".join(outside)
    if MARKUP.search(syntax):
        return "HTML"
    for part in (syntax, *inflated):
        for name in _names(part):
            if name in ACTIVE_NAMES:
                return "/" + name.decode("ascii", "replace")
    return None
