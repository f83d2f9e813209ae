"""PDF reading on bytes, with the shared third-party corpus."""

from __future__ import annotations

import pytest

from app.pdf import (
    CorruptPdf,
    EncryptedPdf,
    TooManyPages,
    chunk_page_ranges,
    count_pages,
    extract_page_texts,
    looks_like_pdf,
    open_pdf,
)


@pytest.mark.parametrize(
    ("pages", "size", "expected"),
    [
        (1, 10, [(1, 1)]),
        (10, 10, [(1, 10)]),
        (11, 10, [(1, 10), (11, 11)]),
        (7, 3, [(1, 3), (4, 6), (7, 7)]),
    ],
)
def test_page_ranges_cover_every_page_once(pages, size, expected):
    assert chunk_page_ranges(pages, size) == expected


def test_pdf_header_is_recognised_within_the_first_kilobyte():
    assert looks_like_pdf(b"%PDF-1.4\n...")
    assert looks_like_pdf(b"\n" * 100 + b"%PDF-1.4")
    assert not looks_like_pdf(b"\n" * 1100 + b"%PDF-1.4")
    assert not looks_like_pdf(b"PK\x03\x04 an odt file")


@pytest.mark.parametrize(
    ("name", "error"),
    [
        ("pm__aes-256.pdf", EncryptedPdf),
        ("pm__rc4-40.pdf", EncryptedPdf),
        ("sf__unreadablemetadata.pdf", CorruptPdf),
        ("multicolumn-truncated-40000B.pdf", CorruptPdf),
    ],
)
def test_unreadable_pdfs_raise_a_specific_error(shared_pdfs, name, error):
    with pytest.raises(error) as raised:
        open_pdf((shared_pdfs / name).read_bytes())
    assert raised.value.code in {"encrypted_pdf", "corrupt_pdf"}


def test_owner_password_only_pdf_opens(shared_pdfs):
    assert count_pages(open_pdf((shared_pdfs / "pm__dmca.pdf").read_bytes()), max_pages=100) == 18


def test_a_bytearray_is_opened_in_place(shared_pdfs):
    data = bytearray((shared_pdfs / "pdfjs__tracemonkey.pdf").read_bytes())
    document = open_pdf(data)
    assert count_pages(document, max_pages=100) == 14
    document.close()


def test_page_limit_is_enforced(shared_pdfs):
    with pytest.raises(TooManyPages, match="117 pages"):
        count_pages(open_pdf((shared_pdfs / "sf__GeoTopo-komprimiert.pdf").read_bytes()), max_pages=100)


def test_text_is_extracted_per_page_in_range(shared_pdfs):
    document = open_pdf((shared_pdfs / "pdfjs__tracemonkey.pdf").read_bytes())
    pages = list(extract_page_texts(document, 2, 4))
    assert [number for number, _ in pages] == [2, 3, 4]
    assert all(text.strip() and "\r" not in text for _, text in pages)


def test_decompression_bomb_text_is_extracted_without_rendering(shared_pdfs):
    document = open_pdf((shared_pdfs / "pdfjs__bomb_giant.pdf").read_bytes())
    [(number, text)] = extract_page_texts(document, 1, 1)
    assert "GIANT JBIG2 BOMB" in text
