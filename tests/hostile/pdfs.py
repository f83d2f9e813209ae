"""Hostile PDFs, written byte by byte: each is small and costs a reader far more than its size.

Generated here, never downloaded; bench/hostile_pdf.py sends the same files. Only the
standard library, so the bench can import this module against any version of the platform.
"""

from __future__ import annotations

import zlib

FONT = b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"
A4 = b"[0 0 595 842]"
SENTENCE = "Every hostile page repeats this plain sentence of ten words"


def pdf_file(objects: list[bytes]) -> bytes:
    """Join objects numbered from 1 (1 is the catalog) into a PDF with a valid cross-reference table."""
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def stream(content: bytes, dictionary: bytes = b"", compress: bool = True) -> bytes:
    """A stream object, deflated unless told otherwise."""
    if compress:
        content = zlib.compress(content, 9)
        dictionary += b" /Filter /FlateDecode"
    return b"<< /Length %d%s >>\nstream\n" % (len(content), dictionary) + content + b"\nendstream"


def text_lines(lines: list[str], size: float = 10) -> bytes:
    """Content that draws each line of text below the one before."""
    body = b"".join(b"(%s) Tj T*\n" % line.encode("latin-1") for line in lines)
    return b"BT /F1 %g Tf %g TL 30 810 Td\n" % (size, size * 1.2) + body + b"ET\n"


def document(pages: bytes, page: bytes, content: bytes, *more: bytes) -> bytes:
    """A PDF whose page tree (object 2) lists page object 3; content is object 5, `more` follow from 6."""
    return pdf_file(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            pages,
            page,
            FONT,
            content,
            *more,
        ]
    )


def single_page(content: bytes, resources: bytes = b"<< /Font << /F1 4 0 R >> >>", *more: bytes) -> bytes:
    """A one-page A4 PDF showing the content stream."""
    return document(
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox %s /Resources %s /Contents 5 0 R >>" % (A4, resources),
        stream(content),
        *more,
    )


def sentences(count: int) -> list[str]:
    return [f"{SENTENCE} number {index}." for index in range(count)]


def normal_page() -> bytes:
    """One ordinary page of 40 sentences: what every limit must let through."""
    return single_page(text_lines(sentences(40)))


def nested_forms(levels: int = 6, fanout: int = 10, lines: int = 4) -> bytes:
    """Form XObjects that each draw the next `fanout` times, `levels` deep: 2 KB that read as 25 million
    characters (fanout**(levels - 1) drawings of `lines` lines), 3.5 GB in pdfium unchecked."""
    forms = []
    for level in range(levels):
        number = 6 + level
        if level == levels - 1:
            content = text_lines([SENTENCE + "."] * lines)
            resources = b"<< /Font << /F1 4 0 R >> >>"
        else:
            content = b"".join(b"q 1 0 0 1 0 %d cm /X Do Q\n" % -step for step in range(fanout))
            resources = b"<< /XObject << /X %d 0 R >> >>" % (number + 1)
        forms.append(
            stream(content, b" /Type /XObject /Subtype /Form /BBox %s /Resources %s" % (A4, resources))
        )
    return single_page(b"/X Do\n", b"<< /XObject << /X 6 0 R >> >>", *forms)


def flate_bomb(inflated_mb: int = 200, padding: int = 120) -> bytes:
    """One page whose 0.7 MB deflated content stream inflates to `inflated_mb` MB of text-showing
    operators, each padded with `padding` spaces: 3.5 GB in pdfium unchecked (none: 22 GB)."""
    operator = b"(Hostile) Tj" + b" " * padding + b"\n"
    content = b"BT /F1 10 Tf 30 810 Td\n" + operator * (inflated_mb * 1024 * 1024 // len(operator)) + b"ET\n"
    return single_page(content)


def page_references(references: int = 10_000, sentence_count: int = 200) -> bytes:
    """A page tree listing the same page of `sentence_count` sentences `references` times."""
    kids = b" ".join([b"3 0 R"] * references)
    return document(
        b"<< /Type /Pages /Kids [%s] /Count %d >>" % (kids, references),
        b"<< /Type /Page /Parent 2 0 R /MediaBox %s /Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>"
        % A4,
        stream(text_lines(sentences(sentence_count), size=3)),
    )


def dense_page(chars: int = 150_000) -> bytes:
    """One page of `chars` characters of text in tiny type: a legitimate-looking page over the per-page cap."""
    words = (SENTENCE + ". ") * (chars // (len(SENTENCE) + 2) + 1)
    line_chars = 400
    lines = [words[start : start + line_chars] for start in range(0, chars, line_chars)]
    return single_page(text_lines(lines, size=0.5))


def slow_page(levels: int = 5, path_operators: int = 20_000) -> bytes:
    """One page that keeps pdfium in one call for a minute and more, in little memory."""
    return slow_text_pages(1, levels, path_operators, sentence_count=0)


def slow_text_pages(
    pages: int, levels: int = 3, path_operators: int = 20_000, sentence_count: int = 25
) -> bytes:
    """Pages of plain sentences, each also drawing a form that takes pdfium long to load, in little memory.

    Forms draw the next ten times, `levels` deep; the last builds (and never paints)
    `path_operators` paths, so loading a page parses 10**(levels - 1) x that many
    operators: about 0.5 s at 3 levels, a minute at 5 (on a 2020 laptop core).
    """
    first_form = 4
    forms = []
    for level in range(levels):
        if level == levels - 1:
            content, resources = b"0 0 m 1 1 l n\n" * path_operators, b"<< >>"
        else:
            content = b"/X Do\n" * 10
            resources = b"<< /XObject << /X %d 0 R >> >>" % (first_form + level + 1)
        forms.append(
            stream(content, b" /Type /XObject /Subtype /Form /BBox %s /Resources %s" % (A4, resources))
        )
    first_page = first_form + levels
    page_objects = []
    for page in range(pages):
        lines = [f"Page {page + 1} says {line}" for line in sentences(sentence_count)]
        page_objects += [
            b"<< /Type /Page /Parent 2 0 R /MediaBox %s /Contents %d 0 R"
            b" /Resources << /Font << /F1 3 0 R >> /XObject << /X %d 0 R >> >> >>"
            % (A4, first_page + 2 * page + 1, first_form),
            stream(b"/X Do\n" + text_lines(lines)),
        ]
    kids = b" ".join(b"%d 0 R" % (first_page + 2 * page) for page in range(pages))
    return pdf_file(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [%s] /Count %d >>" % (kids, pages),
            FONT,
            *forms,
            *page_objects,
        ]
    )
