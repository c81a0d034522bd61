#!/usr/bin/env python3
"""Regenerates the sample logo and signature PNGs (pure Python, no dependencies).

Run from this directory: python3 make_assets.py
Both images are invented for the built-in sample template; they depict no real organisation.
"""
import math
import struct
import zlib


def write_png(path, width, height, rgba):
    raw = bytearray()
    for y in range(height):
        raw.append(0)
        raw.extend(rgba[y * width * 4:(y + 1) * width * 4])

    def chunk(kind, data):
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)

    png = b"\x89PNG\r\n\x1a\n"
    png += chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0))
    png += chunk(b"IDAT", zlib.compress(bytes(raw), 9))
    png += chunk(b"IEND", b"")
    with open(path, "wb") as f:
        f.write(png)


def coverage(inside, x, y, samples=4):
    hits = 0
    for sy in range(samples):
        for sx in range(samples):
            if inside(x + (sx + 0.5) / samples, y + (sy + 0.5) / samples):
                hits += 1
    return hits / (samples * samples)


def logo(path, size=240):
    navy = (31, 58, 95)
    gold = (196, 154, 60)
    c = size / 2
    rgba = bytearray(size * size * 4)

    def in_disc(x, y):
        return (x - c) ** 2 + (y - c) ** 2 <= (c - 2) ** 2

    def in_ring(x, y):
        d = math.hypot(x - c, y - c)
        return c - 14 <= d <= c - 8

    def in_page(x, y, left):
        # one page of an open book: a parallelogram with a slight tilt
        top, bottom = size * 0.32, size * 0.70
        if not (top <= y <= bottom):
            return False
        t = (y - top) / (bottom - top)
        if left:
            x0, x1 = size * 0.24, size * 0.48
            return x0 + 6 * t <= x <= x1 and y >= top + (x1 - x) * 0.12
        x0, x1 = size * 0.52, size * 0.76
        return x0 <= x <= x1 - 6 * t and y >= top + (x - x0) * 0.12

    def in_flame(x, y):
        dx = (x - c) / (size * 0.06)
        dy = (y - size * 0.22) / (size * 0.09)
        return dx * dx + dy * dy <= 1.0

    for y in range(size):
        for x in range(size):
            a_disc = coverage(in_disc, x, y)
            if a_disc == 0:
                continue
            color = navy
            a_ring = coverage(in_ring, x, y)
            a_page = max(coverage(lambda u, v: in_page(u, v, True), x, y),
                         coverage(lambda u, v: in_page(u, v, False), x, y))
            a_flame = coverage(in_flame, x, y)
            r, g, b = navy
            for col, a in ((gold, a_ring), ((255, 255, 255), a_page), (gold, a_flame)):
                r = r * (1 - a) + col[0] * a
                g = g * (1 - a) + col[1] * a
                b = b * (1 - a) + col[2] * a
            i = (y * size + x) * 4
            rgba[i:i + 4] = bytes((round(r), round(g), round(b), round(255 * a_disc)))
    write_png(path, size, size, rgba)


def signature(path, width=480, height=140):
    ink = (20, 40, 90)
    alpha = [0.0] * (width * height)
    points = []
    steps = 2400
    for i in range(steps + 1):
        t = i / steps
        x = 30 + t * (width - 70)
        y = height * 0.55 - 28 * math.sin(t * 9.5) * (1 - t * 0.6) - 12 * math.sin(t * 31) + 18 * t
        points.append((x, y))
    # underline flourish
    for i in range(601):
        t = i / 600
        points.append((60 + t * (width - 120), height * 0.80 + 6 * math.sin(t * 3.1)))
    radius = 2.4
    for (px, py) in points:
        for y in range(int(py - radius - 2), int(py + radius + 3)):
            for x in range(int(px - radius - 2), int(px + radius + 3)):
                if 0 <= x < width and 0 <= y < height:
                    d = math.hypot(x + 0.5 - px, y + 0.5 - py)
                    a = min(1.0, max(0.0, radius + 0.5 - d))
                    k = y * width + x
                    if a > alpha[k]:
                        alpha[k] = a
    rgba = bytearray(width * height * 4)
    for k, a in enumerate(alpha):
        rgba[k * 4:k * 4 + 4] = bytes((*ink, round(255 * a)))
    write_png(path, width, height, rgba)


if __name__ == "__main__":
    logo("sample-logo.png")
    signature("sample-signature.png")
