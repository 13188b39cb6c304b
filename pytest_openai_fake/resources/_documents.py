"""The text a vector store reads from an uploaded file, and the chunks it cuts it into.

- **Formats**: an attach names a file whose extension the API's retrieval list has
  (``RETRIEVAL_EXTENSIONS``) or is refused with its 400. Of those, plain text, Markdown, JSON,
  CSV, TeX and source code are read as UTF-8 text; HTML as its visible text (the standard
  library's ``html.parser``; ``<script>``/``<style>`` dropped, blocks on their own lines); PDF
  through ``pypdf`` and DOCX through ``python-docx`` when the ``documents`` extra is installed.
  Other listed formats (``.doc``, ``.pptx``, and PDF/DOCX without the extra), and text that is
  not UTF-8, fail with the API's ``unsupported_file`` error; a PDF or DOCX the library cannot
  read fails with ``invalid_file``.
- **Chunks**: the text's tokens (``determinism.tokenize``, the fake's o200k-like splitter) in
  windows of ``max_chunk_size_tokens``, each starting ``max - overlap`` tokens after the
  previous one, so neighbours share ``chunk_overlap_tokens`` tokens; the last window ends the
  text. Each chunk keeps its ``words`` (the embeddings' word rule) for search.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Any

from ..determinism import tokenize
from .embeddings import words

__all__ = ["RETRIEVAL_EXTENSIONS", "Chunk", "Parsed", "chunk_text", "extension", "parse"]

#: The extensions the API's file search takes (its "supported files" list), and ``.csv``, which
#: that list does not name (the fake takes it as text; unverified against the real API).
RETRIEVAL_EXTENSIONS = frozenset(
    ["c", "cpp", "cs", "css", "csv", "doc", "docx", "go", "html", "java", "js", "json", "md", "pdf", "php", "pptx", "py", "rb", "sh", "tex", "ts", "txt"]
)
#: Read as UTF-8 text, as uploaded.
TEXT_EXTENSIONS = frozenset(["c", "cpp", "cs", "css", "csv", "go", "java", "js", "json", "md", "php", "py", "rb", "sh", "tex", "ts", "txt"])

#: ``last_error`` of a file the service cannot read (the API's code and text, as reported in
#: openai/openai-openapi#300 and openai/openai-python#2439).
UNSUPPORTED = {"code": "unsupported_file", "message": "The file type is not supported."}


@dataclass(frozen=True)
class Chunk:
    text: str
    words: frozenset[str]


@dataclass(frozen=True)
class Parsed:
    """What processing a file gave: its text, or the ``last_error`` that failed it."""

    text: str = ""
    error: dict[str, str] | None = None


def extension(filename: str) -> str:
    """``report.MD`` -> ``md``; ``""`` without one."""
    stem, dot, ext = filename.rpartition(".")
    return ext.lower() if dot and stem else ""


def parse(filename: str, data: bytes) -> Parsed:
    """The text of a file the API's retrieval list takes (see the module doc)."""
    ext = extension(filename)
    if ext in TEXT_EXTENSIONS or ext == "html":
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            return Parsed(error=dict(UNSUPPORTED))
        if "\x00" in text:  # binary bytes that happen to decode
            return Parsed(error=dict(UNSUPPORTED))
        return Parsed(_html_text(text) if ext == "html" else text)
    if ext == "pdf":
        return _pdf_text(data)
    if ext == "docx":
        return _docx_text(data)
    return Parsed(error=dict(UNSUPPORTED))


def chunk_text(text: str, max_tokens: int, overlap: int) -> list[Chunk]:
    """The chunks of ``text`` (see the module doc); none for text without a non-space token."""
    tokens = tokenize(text)
    if not text.strip():
        return []
    step = max_tokens - overlap
    chunks: list[Chunk] = []
    start = 0
    while True:
        piece = "".join(tokens[start : start + max_tokens])
        chunks.append(Chunk(piece, words(piece)))
        if start + max_tokens >= len(tokens):
            return chunks
        start += step


class _Text(HTMLParser):
    """Visible text of an HTML page: data outside ``script``/``style``, a newline per block."""

    BLOCKS = frozenset(["p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "section", "article", "header", "footer", "pre", "table", "ul", "ol", "title"])
    HIDDEN = frozenset({"script", "style", "template", "noscript"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.hidden = 0

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        if tag in self.HIDDEN:
            self.hidden += 1
        elif tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self.HIDDEN:
            self.hidden = max(0, self.hidden - 1)
        elif tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self.hidden:
            self.parts.append(data)


def _html_text(source: str) -> str:
    parser = _Text()
    parser.feed(source)
    parser.close()
    lines = (" ".join(line.split()) for line in "".join(parser.parts).splitlines())
    return "\n".join(line for line in lines if line)


#: ``last_error`` of a PDF or DOCX its library cannot read (code as the API documents it; the
#: message is unverified: the one public report of ``invalid_file`` is about a file too large).
INVALID = {"code": "invalid_file", "message": "The file could not be parsed."}


def _docx_text(data: bytes) -> Parsed:
    try:
        import docx  # the optional ``documents`` extra (python-docx)
    except ImportError:
        return Parsed(error=dict(UNSUPPORTED))
    try:
        document = docx.Document(io.BytesIO(data))
        paragraphs = [paragraph.text for paragraph in document.paragraphs]
        cells = [cell.text for table in document.tables for row in table.rows for cell in row.cells]
    except Exception:  # noqa: BLE001 - any file python-docx cannot read is one the service cannot parse
        return Parsed(error=dict(INVALID))
    return Parsed("\n".join(text for text in [*paragraphs, *cells] if text.strip()))


def _pdf_text(data: bytes) -> Parsed:
    try:
        from pypdf import PdfReader
    except ImportError:
        return Parsed(error=dict(UNSUPPORTED))
    try:
        reader = PdfReader(io.BytesIO(data))
        pages = [page.extract_text() or "" for page in reader.pages]
    except Exception:  # noqa: BLE001 - any PDF pypdf cannot read is a file the service cannot parse
        return Parsed(error=dict(INVALID))
    return Parsed("\n\n".join(page.strip() for page in pages if page.strip()))
