"""Why a PDF cannot be processed; each error carries the code the API reports."""

from __future__ import annotations


class PdfError(Exception):
    """A PDF that cannot be processed."""

    code = "unreadable_pdf"


class EncryptedPdf(PdfError):
    """The PDF needs a user password to open."""

    code = "encrypted_pdf"


class CorruptPdf(PdfError):
    """The PDF's structure is broken or the file is cut short."""

    code = "corrupt_pdf"


class NoPages(PdfError):
    """The PDF opens but has no pages."""

    code = "no_pages"


class TooManyPages(PdfError):
    """The PDF has more pages than the configured limit."""

    code = "page_limit_exceeded"


class TooMuchText(PdfError):
    """The PDF holds more text than a job may store: too many characters on a page or sentences in all."""

    code = "too_much_text"


class ResourceLimit(PdfError):
    """Reading the PDF needed more memory than PDF work may use, or crashed the PDF reader."""

    code = "resource_limit"
