"""Draws Fieldbook's app icons (a page with ruled lines on the theme colour)
as PNG files in public/icons/. Run once when the design changes; the PNGs are
committed. Pure Python, so it needs nothing installed."""

import struct
import zlib
from pathlib import Path

THEME = (0x0B, 0x57, 0x52)
PAGE = (0xF6, 0xF7, 0xF5)
LINE = (0x0B, 0x57, 0x52)
ACCENT = (0xE8, 0xA3, 0x3D)
OUT = Path(__file__).resolve().parent.parent / "public" / "icons"


def png(path, size, pixel):
    rows = bytearray()
    for y in range(size):
        rows.append(0)
        for x in range(size):
            rows.extend(pixel(x / size, y / size))
    def chunk(kind, data):
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))
    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
                     + chunk(b"IDAT", zlib.compress(bytes(rows), 9)) + chunk(b"IEND", b""))


def icon(safe):
    """`safe` is the fraction of the icon the page may use: maskable icons
    keep their content inside the central 80% circle."""
    lo, hi = 0.5 - safe / 2, 0.5 + safe / 2
    def pixel(x, y):
        if not (lo + 0.08 * safe <= x <= hi - 0.08 * safe and lo <= y <= hi):
            return THEME
        # Position inside the page, 0..1.
        px = (x - lo) / (hi - lo)
        py = (y - lo) / (hi - lo)
        if 0.2 <= px <= 0.8:
            for line in (0.3, 0.45, 0.6, 0.75):
                if abs(py - line) < 0.025:
                    return ACCENT if line == 0.3 else LINE
        return PAGE
    return pixel


OUT.mkdir(parents=True, exist_ok=True)
png(OUT / "icon-192.png", 192, icon(0.7))
png(OUT / "icon-512.png", 512, icon(0.7))
png(OUT / "apple-touch-icon.png", 180, icon(0.7))
png(OUT / "maskable-512.png", 512, icon(0.5))
(OUT / "icon.svg").write_text(
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 100 100">'
    '<rect width="100" height="100" rx="18" fill="#0b5752"/>'
    '<rect x="20" y="15" width="60" height="70" rx="4" fill="#f6f7f5"/>'
    '<g stroke-width="3"><path d="M30 36h40" stroke="#e8a33d"/>'
    '<path d="M30 47h40M30 58h40M30 69h40" stroke="#0b5752"/></g></svg>\n'
)
