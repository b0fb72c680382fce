#!/usr/bin/env python3
"""Writes media/icon.png, the 128x128 marketplace icon: a staircase of four steps, the newest
one highlighted, on a rounded dark-blue tile. Pure Python (zlib + struct), no image library:
run `python3 scripts/make-icon.py` after changing the drawing, and commit the PNG it writes."""
import os
import struct
import zlib

SIZE = 128
RADIUS = 22
TILE = (30, 58, 95, 255)       # dark blue
STEP = (127, 209, 174, 255)    # green steps
NEWEST = (255, 196, 87, 255)   # the latest step, amber
CLEAR = (0, 0, 0, 0)


def inside_rounded_tile(x, y):
    cx = min(max(x, RADIUS), SIZE - 1 - RADIUS)
    cy = min(max(y, RADIUS), SIZE - 1 - RADIUS)
    return (x - cx) ** 2 + (y - cy) ** 2 <= RADIUS ** 2


def pixel(x, y):
    if not inside_rounded_tile(x, y):
        return CLEAR
    # Four steps rising left to right, each 20 px wide and 16 px higher than the last.
    left, base, width, rise = 24, 104, 20, 16
    for i in range(4):
        x0 = left + i * width
        top = base - (i + 1) * rise
        if x0 <= x < x0 + width - 3 and top <= y < base:
            return NEWEST if i == 3 else STEP
    return TILE


def png(width, height, rows):
    def chunk(kind, data):
        body = kind + data
        return struct.pack('>I', len(data)) + body + struct.pack('>I', zlib.crc32(body) & 0xFFFFFFFF)

    raw = b''.join(b'\x00' + bytes(c for px in row for c in px) for row in rows)
    header = struct.pack('>IIBBBBB', width, height, 8, 6, 0, 0, 0)  # 8-bit RGBA
    return b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', header) + chunk(b'IDAT', zlib.compress(raw, 9)) + chunk(b'IEND', b'')


if __name__ == '__main__':
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'media', 'icon.png')
    rows = [[pixel(x, y) for x in range(SIZE)] for y in range(SIZE)]
    with open(out, 'wb') as f:
        f.write(png(SIZE, SIZE, rows))
    print(f'wrote {os.path.normpath(out)}')
