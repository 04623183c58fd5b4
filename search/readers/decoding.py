"""Bytes to text: tell text from binary, decode any scrape's encoding, hash inputs.

:func:`decode_bytes` never fails: a BOM, UTF-16 without one, UTF-8, the
page's declared charset, charset-normalizer's guess among the encodings news
sites used, and cp1252 as the last resort.  :func:`check_text` refuses empty
and binary inputs with a :class:`BadInput` whose message is the reason.
"""

from __future__ import annotations

import codecs
import hashlib
import re

import charset_normalizer

# Bytes inspected to tell text from binary.
SNIFF_BYTES = 8192
# Share of control bytes above which a file is taken for binary.
MAX_CONTROL_SHARE = 0.05
# Stable, short enough for an index field, and fast on large inputs.
HASH_DIGEST_BYTES = 16
# UTF-16 without a BOM, told by its NUL bytes: ASCII and Latin-1 letters have a
# zero high byte, so mostly-Western text has NULs in at least this share of one
# byte column (odd positions for little-endian, even for big-endian) ...
UTF16_MIN_NUL_SHARE = 0.6
# ... and almost none in the other, where binary data has them everywhere.
UTF16_MAX_OTHER_NUL_SHARE = 0.02


# Encodings charset-normalizer may choose from: what news sites actually
# served before UTF-8 won.  DOS and Mac code pages only ever "win" by accident.
DETECTABLE_ENCODINGS = [
    "cp1252", "cp1250", "cp1251", "cp1253", "cp1254", "cp1255", "cp1256", "cp1257", "cp874",
    "iso8859_2", "iso8859_5", "iso8859_7", "iso8859_15", "koi8_r", "koi8_u",
    "shift_jis", "cp932", "euc_jp", "iso2022_jp", "gb18030", "big5", "euc_kr", "cp949",
]
# Latin-1 files decode identically as cp1252 (0x80-0x9F are unused controls in
# latin-1), so cp1252 is the fallback and wins ties on short samples.
FALLBACK_ENCODING = "cp1252"
# Browsers read pages labelled latin-1 or ASCII as windows-1252 (WHATWG), and
# so do the authors who saved them: their curly quotes are 0x93/0x94.
_WINDOWS_1252_LABELS = dict.fromkeys(
    ("iso-8859-1", "iso8859-1", "iso_8859-1", "latin1", "latin-1", "l1", "ascii", "us-ascii", "cp819"), "cp1252"
)
LATIN1_FILL = "newsfacet-latin1-fill"
_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.IGNORECASE)
GZIP_MAGIC = b"\x1f\x8b"
_BINARY_MAGIC = (b"%PDF-", b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"PK\x03\x04", b"\x7fELF", GZIP_MAGIC)
_CONTROL_BYTES = frozenset(range(32)) - frozenset(b"\t\n\r\f\v\x1b")


def _latin1_fill(error: UnicodeDecodeError) -> tuple[str, int]:
    # cp1252 leaves five bytes undefined; read them as latin-1 rather than lose text.
    return error.object[error.start : error.end].decode("latin-1"), error.end


codecs.register_error(LATIN1_FILL, _latin1_fill)


class BadInput(Exception):
    """An input that cannot become an article; the message is the failure reason."""


def decode_bytes(data: bytes, declared: str | None = None) -> str:
    """Decode *data* to text, never failing.

    Order: a BOM (UTF-8/16/32), UTF-16 without a BOM (see
    :func:`utf16_without_bom`), strict UTF-8, the *declared* charset (an HTML
    ``<meta charset>``) if it decodes cleanly, charset-normalizer's best guess
    among :data:`DETECTABLE_ENCODINGS` (cp1252 on a tie), else cp1252 with
    undefined bytes read as latin-1.
    """
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return data.decode(encoding, errors="replace")
    # Before UTF-8: NUL is valid UTF-8, so UTF-16 ASCII text would decode as "H\0e\0l\0".
    utf16 = utf16_without_bom(data)
    if utf16 is not None:
        return data.decode(utf16, errors="replace")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    if declared:
        declared = _WINDOWS_1252_LABELS.get(declared.lower(), declared)
        try:
            return data.decode(declared)
        except (LookupError, UnicodeDecodeError):
            pass
    return data.decode(_guess_encoding(data), errors=LATIN1_FILL)


def _guess_encoding(data: bytes) -> str:
    matches = list(charset_normalizer.from_bytes(data, cp_isolation=DETECTABLE_ENCODINGS))
    if not matches:
        return FALLBACK_ENCODING
    best = matches[0]
    for match in matches:
        tied = match.chaos <= best.chaos + 0.01 and match.coherence >= best.coherence - 0.01
        # Short Western texts score the same under cp1250 and cp1252; a wrong
        # cp1250 guess turns "Tromsø" into "Tromsř", so prefer cp1252.
        if tied and FALLBACK_ENCODING in match.could_be_from_charset:
            return FALLBACK_ENCODING
    return best.encoding


def declared_charset(data: bytes) -> str | None:
    found = _META_CHARSET.search(data[:4096])
    return found.group(1).decode("ascii").lower() if found else None


def utf16_without_bom(data: bytes) -> str | None:
    """``"utf-16-le"`` or ``"utf-16-be"`` if *data* reads as UTF-16 text without a BOM, else None.

    Windows tools save UTF-16 without a BOM; its NUL high bytes would
    otherwise make the file look binary.  Only mostly Latin-script text is
    recognised (a zero high byte in most characters, see
    :data:`UTF16_MIN_NUL_SHARE`), and the decoded start must not be mostly
    control characters.
    """
    head = data[:SNIFF_BYTES]
    head = head[: len(head) // 2 * 2]
    if len(head) < 4 or b"\x00" not in head:
        return None
    even, odd = head[0::2], head[1::2]
    even_nul, odd_nul = even.count(0) / len(even), odd.count(0) / len(odd)
    if odd_nul >= UTF16_MIN_NUL_SHARE and even_nul <= UTF16_MAX_OTHER_NUL_SHARE:
        encoding = "utf-16-le"
    elif even_nul >= UTF16_MIN_NUL_SHARE and odd_nul <= UTF16_MAX_OTHER_NUL_SHARE:
        encoding = "utf-16-be"
    else:
        return None
    text = head.decode(encoding, errors="replace")
    controls = sum(1 for char in text if ord(char) in _CONTROL_BYTES)
    return encoding if controls <= MAX_CONTROL_SHARE * len(text) else None


def check_text(data: bytes, allow_utf16: bool = True) -> None:
    """Raise :class:`BadInput` if *data* is empty or binary.

    UTF-16 without a BOM counts as text unless *allow_utf16* is false (JSON
    lines are split at the byte ``\\n``, which UTF-16 text cannot be).
    """
    if not data.strip():
        raise BadInput("empty file")
    head = data[:SNIFF_BYTES]
    if any(data.startswith(bom) for bom, _ in _BOMS):
        return
    if head.startswith(_BINARY_MAGIC):
        raise BadInput("binary file")
    if b"\x00" in head:
        if allow_utf16 and utf16_without_bom(head) is not None:
            return
        raise BadInput("binary file")
    controls = sum(1 for byte in head if byte in _CONTROL_BYTES)
    if controls > MAX_CONTROL_SHARE * len(head):
        raise BadInput("binary file")


def content_hash(*parts: bytes) -> str:
    """Hex blake2b of the concatenated *parts* (an input's bytes, plus a sidecar)."""
    digest = hashlib.blake2b(digest_size=HASH_DIGEST_BYTES)
    for part in parts:
        digest.update(part)
    return digest.hexdigest()
