"""A confusion-matrix picture as PNG, written with zlib and struct (no plotting library needed)."""

from __future__ import annotations

import struct
import zlib
from collections.abc import Sequence
from pathlib import Path

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
RGB = tuple[int, int, int]
WHITE: RGB = (255, 255, 255)
BLACK: RGB = (0, 0, 0)
GRID: RGB = (200, 200, 200)
DARK: RGB = (8, 48, 107)  # the colour of a cell that holds a whole row

# 3x5 bitmaps for the characters the picture needs; "#" is ink.
FONT: dict[str, tuple[str, ...]] = {
    "0": ("###", "#.#", "#.#", "#.#", "###"), "1": (".#.", "##.", ".#.", ".#.", "###"),
    "2": ("###", "..#", "###", "#..", "###"), "3": ("###", "..#", ".##", "..#", "###"),
    "4": ("#.#", "#.#", "###", "..#", "..#"), "5": ("###", "#..", "###", "..#", "###"),
    "6": ("###", "#..", "###", "#.#", "###"), "7": ("###", "..#", ".#.", ".#.", ".#."),
    "8": ("###", "#.#", "###", "#.#", "###"), "9": ("###", "#.#", "###", "..#", "###"),
    "C": ("###", "#..", "#..", "#..", "###"), "D": ("##.", "#.#", "#.#", "#.#", "##."),
    "E": ("###", "#..", "##.", "#..", "###"), "I": ("###", ".#.", ".#.", ".#.", "###"),
    "P": ("###", "#.#", "###", "#..", "#.."), "R": ("##.", "#.#", "##.", "#.#", "#.#"),
    "T": ("###", ".#.", ".#.", ".#.", ".#."), "U": ("#.#", "#.#", "#.#", "#.#", "###"),
}
SCALE = 2
CHAR_W, CHAR_H = 3 * SCALE, 5 * SCALE
ADVANCE = CHAR_W + SCALE
CELL = 36
MARGIN = 44


def png_bytes(width: int, height: int, pixels: bytes | bytearray) -> bytes:
    """Encode 8-bit RGB pixels (rows top to bottom, 3 bytes a pixel) as a PNG file."""
    if len(pixels) != width * height * 3:
        raise ValueError(f"expected {width * height * 3} pixel bytes, got {len(pixels)}")
    stride = width * 3
    # Each scanline starts with its filter type; 0 means "none".
    raw = b"".join(b"\x00" + bytes(pixels[r * stride:(r + 1) * stride]) for r in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data)
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (PNG_SIGNATURE + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw, 9))
            + chunk(b"IEND", b""))


class Canvas:
    """A white RGB image with rectangles and a tiny bitmap font."""

    def __init__(self, width: int, height: int) -> None:
        self.width, self.height = width, height
        self.pixels = bytearray(b"\xff" * (width * height * 3))

    def rect(self, x: int, y: int, w: int, h: int, colour: RGB) -> None:
        row = bytes(colour) * w
        for yy in range(y, y + h):
            start = (yy * self.width + x) * 3
            self.pixels[start:start + 3 * w] = row

    def text(self, x: int, y: int, s: str, colour: RGB) -> None:
        for i, ch in enumerate(s):
            for dy, line in enumerate(FONT[ch]):
                for dx, bit in enumerate(line):
                    if bit == "#":
                        left = x + i * ADVANCE + dx * SCALE
                        self.rect(left, y + dy * SCALE, SCALE, SCALE, colour)

    def png(self) -> bytes:
        return png_bytes(self.width, self.height, self.pixels)


def text_width(s: str) -> int:
    return len(s) * ADVANCE - SCALE


def shade(fraction: float) -> RGB:
    """White for 0, DARK for 1, linear in between."""
    return (
        round(WHITE[0] + (DARK[0] - WHITE[0]) * fraction),
        round(WHITE[1] + (DARK[1] - WHITE[1]) * fraction),
        round(WHITE[2] + (DARK[2] - WHITE[2]) * fraction),
    )


def confusion_png(confusion: Sequence[Sequence[int]]) -> bytes:
    """Rows are the true digits, columns the predicted ones; shade = share of the row."""
    n = len(confusion)
    size = MARGIN + n * CELL + 8
    canvas = Canvas(size, size)
    grid = n * CELL
    canvas.text(MARGIN + (grid - text_width("PREDICTED")) // 2, 6, "PREDICTED", BLACK)
    label_y0 = MARGIN + (grid - (4 * (CHAR_H + SCALE) - SCALE)) // 2
    for i, ch in enumerate("TRUE"):  # written downwards along the left edge
        canvas.text(6, label_y0 + i * (CHAR_H + SCALE), ch, BLACK)
    canvas.rect(MARGIN - 1, MARGIN - 1, grid + 1, grid + 1, GRID)
    for i, row in enumerate(confusion):
        label = str(i)
        canvas.text(MARGIN + i * CELL + (CELL - text_width(label)) // 2, MARGIN - 6 - CHAR_H,
                    label, BLACK)
        canvas.text(MARGIN - 8 - text_width(label), MARGIN + i * CELL + (CELL - CHAR_H) // 2,
                    label, BLACK)
        total = max(sum(row), 1)
        for j, count in enumerate(row):
            x, y = MARGIN + j * CELL, MARGIN + i * CELL
            canvas.rect(x, y, CELL - 1, CELL - 1, shade(count / total))
            if count:
                s = str(count)
                ink = WHITE if count / total > 0.5 else BLACK
                canvas.text(x + (CELL - 1 - text_width(s)) // 2, y + (CELL - 1 - CHAR_H) // 2,
                            s, ink)
    return canvas.png()


def write_confusion_png(confusion: Sequence[Sequence[int]], path: Path) -> None:
    path.write_bytes(confusion_png(confusion))
