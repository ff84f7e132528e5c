"""Read a report file (.txt, .pdf, .docx) into numbered text lines.

Every error names the file; nothing here knows about the layout of UN reports.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from cbmkg.errors import InputError

# A UN file name: symbol with "_" for "/", then "-" and the language (A_75_95-ZH.pdf).
FILE_NAME = re.compile(r"^(?P<symbol>[A-Z]+(?:_[A-Za-z0-9.]+)+)[-_](?P<lang>[A-Z]{1,2})$")
FILE_LANGUAGES = {"ZH": "zh", "C": "zh", "CH": "zh", "EN": "en", "E": "en", "FR": "fr",
                  "F": "fr", "ES": "es", "S": "es", "RU": "ru", "R": "ru", "AR": "ar", "A": "ar"}


@dataclass(frozen=True)
class Source:
    path: Path
    lines: tuple[str, ...]
    #: symbol and language read from a UN file name, when it is one
    symbol_hint: str | None
    language_hint: str | None
    #: True when each line is already one paragraph (Word), False for hard-wrapped text
    paragraph_per_line: bool = False
    #: SHA-256 of the file's bytes, as read (the extraction run names its input by it)
    digest: str = ""


def read(path: Path) -> Source:
    suffix = path.suffix.lower()
    if not path.is_file():
        raise InputError(f"{path}: no such file")
    try:
        data = path.read_bytes()  # once: the digest and, for text, the text come from it
    except OSError as e:
        raise InputError(f"{path}: cannot read: {e.strerror}") from None
    digest = hashlib.sha256(data).hexdigest()
    if suffix == ".txt":
        text = _read_text(path, data)
    elif suffix == ".pdf":
        text = _read_pdf(path)
    elif suffix == ".docx":
        text = _read_docx(path)
    else:
        raise InputError(f"{path}: reports are read from .txt, .pdf or .docx, not '{suffix}'")
    text = unicodedata.normalize("NFC", text).replace("\r\n", "\n").replace("\r", "\n")
    lines = tuple(text.replace("\f", "\n").split("\n"))
    if not any(line.strip() for line in lines):
        raise InputError(f"{path}: the file is empty (no text)")
    symbol, lang = _from_file_name(path)
    return Source(path, lines, symbol, lang, paragraph_per_line=suffix == ".docx", digest=digest)


def _read_text(path: Path, data: bytes) -> str:
    if b"\x00" in data[:4096]:
        raise InputError(f"{path}: a binary file, not a text report")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = data[:e.start].count(b"\n") + 1
        raise InputError(f"{path}:{line}: not UTF-8 text (byte {e.start})") from None


def _read_pdf(path: Path) -> str:
    from pdfminer.high_level import extract_text
    from pdfminer.pdfparser import PDFSyntaxError

    try:
        return extract_text(str(path))
    except (PDFSyntaxError, ValueError, KeyError, TypeError) as e:
        raise InputError(f"{path}: not a readable PDF ({type(e).__name__}: {e})") from None


def _read_docx(path: Path) -> str:
    import zipfile

    import docx

    try:
        document = docx.Document(str(path))
    except (zipfile.BadZipFile, KeyError, ValueError) as e:
        raise InputError(f"{path}: not a readable Word document ({e})") from None
    return "\n".join(p.text for p in document.paragraphs)


def _from_file_name(path: Path) -> tuple[str | None, str | None]:
    match = FILE_NAME.match(path.stem)
    if not match:
        return None, None
    return match["symbol"].replace("_", "/"), FILE_LANGUAGES.get(match["lang"])
