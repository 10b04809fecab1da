"""Small valid files made in code (demo data, tests): a one-page PDF with a line of
text, and a PNG of one colour."""
import struct
import zlib


def _pdf_text(text):
    return text.encode("latin-1", "replace").replace(b"\\", b"\\\\") \
        .replace(b"(", b"\\(").replace(b")", b"\\)")


def make_pdf(text="Document", subtitle=""):
    """A minimal, valid one-page PDF 1.4 (A4) showing ``text`` (and ``subtitle``)."""
    stream = b"BT /F1 18 Tf 72 760 Td (" + _pdf_text(text) + b") Tj ET"
    if subtitle:
        stream += b"\nBT /F1 11 Tf 72 736 Td (" + _pdf_text(subtitle) + b") Tj ET"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
        b"/Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica "
        b"/Encoding /WinAnsiEncoding >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream
        + b"\nendstream",
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    for offset in offsets:
        out += f"{offset:010d} 00000 n \n".encode()
    out += (f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\n"
            f"startxref\n{xref}\n%%EOF\n").encode()
    return bytes(out)


def _chunk(kind, data):
    return (struct.pack(">I", len(data)) + kind + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))


def make_png(width=64, height=48, rgb=(40, 90, 160)):
    """A valid PNG of one colour."""
    row = b"\x00" + bytes(rgb) * width
    raw = row * height
    return (b"\x89PNG\r\n\x1a\n"
            + _chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + _chunk(b"IDAT", zlib.compress(raw, 9)) + _chunk(b"IEND", b""))


def make_jpeg():
    """The smallest well-formed JPEG header bytes with an end marker (a 1x1 baseline
    image is longer than needed for type recognition in tests; this is not a picture
    to display)."""
    return (b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
            + b"\xff\xd9")
