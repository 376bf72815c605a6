"""Hostile inputs, generated small: each one expands to far more work or memory than its size."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import tarfile
import zipfile
import zlib
from pathlib import Path


def raw_pdf(dst: Path, objects: list[bytes], root: int = 1) -> Path:
    """A PDF file of the given object bodies (object n is ``objects[n-1]``), with a correct xref."""
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for n, body in enumerate(objects, 1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % n + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    out.write(b"".join(b"%010d 00000 n \n" % off for off in offsets))
    out.write(b"trailer\n<< /Size %d /Root %d 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, root, xref))
    dst.parent.mkdir(parents=True, exist_ok=True)
    dst.write_bytes(out.getvalue())
    return dst


_PAGE = b"<< /Type /Page /MediaBox [0 0 200 200] /Parent %d 0 R >>"


def deep_page_tree(dst: Path, depth: int = 100_000) -> Path:
    """A /Pages node holding a /Pages node holding … ``depth`` levels down to one page."""
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>"]
    for level in range(depth):
        n = level + 2
        objects.append(b"<< /Type /Pages /Kids [%d 0 R] /Count 1 >>" % (n + 1))
    objects.append(_PAGE % (depth + 1))
    return raw_pdf(dst, objects)


def many_page_refs(dst: Path, count: int = 1_000_000) -> Path:
    """One page listed ``count`` times in the page tree: a small file that claims a million pages."""
    kids = b" ".join([b"3 0 R"] * count)
    return raw_pdf(dst, [b"<< /Type /Catalog /Pages 2 0 R >>",
                         b"<< /Type /Pages /Kids [" + kids + b"] /Count %d >>" % count, _PAGE % 2])


def flate_bomb(dst: Path, megabytes: int = 200) -> Path:
    """A page whose font's /ToUnicode map inflates to ``megabytes`` MB from about a thousandth of that."""
    data = _deflated(b"<0001> <0041>\n", megabytes)
    content = b"BT /F1 12 Tf 10 10 Td <0001> Tj ET"
    return raw_pdf(dst, [
        b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /MediaBox [0 0 200 200] /Parent 2 0 R /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
        b"<< /Type /Font /Subtype /Type0 /BaseFont /X /Encoding /Identity-H /ToUnicode 6 0 R /DescendantFonts [] >>",
        b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(data) + data + b"\nendstream"])


def _deflated(unit: bytes, megabytes: int) -> bytes:
    """A zlib stream of ``unit`` repeated to ``megabytes`` MB, made in a fraction of a second.

    After a full flush the compressor starts afresh, so every further megabyte
    compresses to the same bytes: one is compressed and repeated.
    """
    chunk = unit * ((1 << 20) // len(unit))
    packer = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    block = packer.compress(chunk) + packer.flush(zlib.Z_FULL_FLUSH)
    check = 1
    for _ in range(megabytes):
        check = zlib.adler32(chunk, check)
    return b"\x78\xda" + block * megabytes + packer.flush() + check.to_bytes(4, "big")


def docx_bomb(dst: Path, megabytes: int = 2048) -> Path:
    """A .docx whose document.xml inflates to ``megabytes`` MB of paragraphs (a zip bomb)."""
    paragraph = b"<w:p><w:r><w:t>\xe5\xa0\xb1\xe5\x91\x8a</w:t></w:r></w:p>"
    head = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<w:document xmlns:w='
            b'"http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>')
    body = head + b"".join([paragraph] * ((megabytes << 20) // len(paragraph))) + b"</w:body></w:document>" \
        if megabytes <= 64 else None
    types = (b'<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/'
             b'package/2006/content-types"><Default Extension="rels" ContentType="application/'
             b'vnd.openxmlformats-package.relationships+xml"/><Override PartName="/word/document.xml" '
             b'ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/>'
             b'</Types>')
    rels = (b'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/'
            b'package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/'
            b'officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/></Relationships>')
    dst.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as z:
        z.writestr("[Content_Types].xml", types)
        z.writestr("_rels/.rels", rels)
        if body is not None:
            z.writestr("word/document.xml", body)
        else:
            with z.open("word/document.xml", "w", force_zip64=True) as out:
                out.write(head)
                block = paragraph * ((1 << 20) // len(paragraph))
                for _ in range(megabytes):
                    out.write(block)
                out.write(b"</w:body></w:document>")
    return dst


def alias_bomb(levels: int = 9, fanout: int = 10) -> str:
    """A sidecar whose unknown key expands to ``fanout ** levels`` strings (a "billion laughs")."""
    lines = ["id: BOMB1", "title: 炸彈", 'a0: &a0 ["哈"]']
    for n in range(1, levels + 1):
        lines.append(f"a{n}: &a{n} [{', '.join([f'*a{n - 1}'] * fanout)}]")
    return "\n".join(lines) + "\n"


def bundle_with_big_member(dst: Path, megabytes: int, name: str = "corpus/big.pdf") -> Path:
    """A valid bundle (manifest and sums right) whose one document is ``megabytes`` MB of zeros."""
    digest, size = hashlib.sha256(), megabytes << 20
    block = bytes(1 << 20)
    for _ in range(megabytes):
        digest.update(block)
    manifest = json.dumps({"format": "tripkb-bundle", "version": 1, "tripkb": "0", "created": "2024-01-01T00:00:00Z",
                           "documents": [{"id": "big", "sidecar": None, "file": name}],
                           "files": {name: {"sha256": digest.hexdigest(), "size": size}}}).encode()
    dst.parent.mkdir(parents=True, exist_ok=True)
    with gzip.open(dst, "wb", compresslevel=1) as raw, tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        info = tarfile.TarInfo(name)
        info.size = size
        tar.addfile(info, _Zeros(size))
        info = tarfile.TarInfo("manifest.json")
        info.size = len(manifest)
        tar.addfile(info, io.BytesIO(manifest))
    return dst


class _Zeros:
    """A file of ``size`` zero bytes that is never held in memory."""

    def __init__(self, size: int):
        self.left = size

    def read(self, n: int = -1) -> bytes:
        n = self.left if n < 0 else min(n, self.left)
        self.left -= n
        return bytes(n)


def slow_pdf(dst: Path, pages: int = 4, megabytes: int = 5) -> Path:
    """``pages`` pages, each of ``megabytes`` MB of tiny text-showing operators (deflated to a few
    KB): each reader takes seconds over every page. A page stays within pypdf's limits (its
    2,000,000 tokens a stream), so only a time bound stops the reading, however fast the machine."""
    data = _deflated(b"BT /F1 9 Tf 10 10 Td (a) Tj ET\n", megabytes)
    font = 3 + 2 * pages
    kids = b" ".join(b"%d 0 R" % (3 + 2 * n) for n in range(pages))
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [%s] /Count %d >>" % (kids, pages)]
    for n in range(pages):
        objects += [b"<< /Type /Page /MediaBox [0 0 200 200] /Parent 2 0 R /Contents %d 0 R "
                    b"/Resources << /Font << /F1 %d 0 R >> >> >>" % (4 + 2 * n, font),
                    b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(data) + data + b"\nendstream"]
    return raw_pdf(dst, objects + [b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"])
