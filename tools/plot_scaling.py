#!/usr/bin/env python3
"""Draws docs/benchmarks-scaling.svg from the CSV that tools/scaling_runs.py writes: wall time
against cluster size (1 simulated day) and against simulated days (size factor 1), one line per
policy, both axes logarithmic.

Usage: tools/plot_scaling.py IN.csv OUT.svg
"""
import csv
import math
import sys

COLOURS = {"cluster-autoscaler": "#1f77b4", "karpenter": "#ff7f0e"}
W, H = 460, 340
LEFT, RIGHT, TOP, BOTTOM = 70, 20, 40, 60


def panel(x0, title, xlabel, series, xs_label):
    xs = [x for points in series.values() for x, _ in points]
    ys = [y for points in series.values() for _, y in points]
    lx0, lx1 = math.log10(min(xs)), math.log10(max(xs))
    ly0, ly1 = math.floor(math.log10(min(ys))), math.ceil(math.log10(max(ys)))
    if lx1 == lx0:
        lx1 += 1
    if ly1 == ly0:
        ly1 += 1

    def px(x):
        return x0 + LEFT + (math.log10(x) - lx0) / (lx1 - lx0) * (W - LEFT - RIGHT)

    def py(y):
        return TOP + (ly1 - math.log10(y)) / (ly1 - ly0) * (H - TOP - BOTTOM)

    out = [f'<text x="{x0 + W / 2}" y="22" text-anchor="middle" font-size="15">{title}</text>']
    out.append(
        f'<line x1="{x0 + LEFT}" y1="{H - BOTTOM}" x2="{x0 + W - RIGHT}" y2="{H - BOTTOM}" stroke="black"/>'
    )
    out.append(f'<line x1="{x0 + LEFT}" y1="{TOP}" x2="{x0 + LEFT}" y2="{H - BOTTOM}" stroke="black"/>')
    for exponent in range(ly0, ly1 + 1):
        y = py(10**exponent)
        out.append(
            f'<line x1="{x0 + LEFT}" y1="{y}" x2="{x0 + W - RIGHT}" y2="{y}" stroke="#ddd"/>'
        )
        out.append(
            f'<text x="{x0 + LEFT - 6}" y="{y + 4}" text-anchor="end" font-size="12">{10**exponent:g} s</text>'
        )
    for x in sorted(set(xs)):
        out.append(
            f'<text x="{px(x)}" y="{H - BOTTOM + 18}" text-anchor="middle" font-size="12">{xs_label(x)}</text>'
        )
    out.append(
        f'<text x="{x0 + LEFT + (W - LEFT - RIGHT) / 2}" y="{H - 15}" text-anchor="middle" font-size="13">{xlabel}</text>'
    )
    out.append(
        f'<text transform="translate({x0 + 16},{TOP + (H - TOP - BOTTOM) / 2}) rotate(-90)" text-anchor="middle" font-size="13">wall time (s, log scale)</text>'
    )
    for index, (policy, points) in enumerate(sorted(series.items())):
        points.sort()
        path = " ".join(f"{px(x):.1f},{py(y):.1f}" for x, y in points)
        colour = COLOURS.get(policy, "black")
        out.append(f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2"/>')
        for x, y in points:
            out.append(f'<circle cx="{px(x):.1f}" cy="{py(y):.1f}" r="3" fill="{colour}"/>')
        ly = TOP + 8 + 18 * index
        out.append(f'<rect x="{x0 + LEFT + 10}" y="{ly - 9}" width="12" height="12" fill="{colour}"/>')
        out.append(f'<text x="{x0 + LEFT + 28}" y="{ly + 2}" font-size="12">{policy}</text>')
    return out


def main():
    rows = list(csv.DictReader(open(sys.argv[1])))
    by_size, by_days = {}, {}
    for row in rows:
        factor, days, wall = float(row["size_factor"]), int(row["days"]), float(row["wall_s"])
        if days == 1:
            by_size.setdefault(row["policy"], []).append((factor * 1000, wall))
        if factor == 1.0:
            by_days.setdefault(row["policy"], []).append((days, wall))
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{2 * W}" height="{H}" font-family="sans-serif">',
        f'<rect width="{2 * W}" height="{H}" fill="white"/>',
    ]
    parts += panel(0, "1 simulated day, by cluster size", "peak nodes (about)", by_size, lambda x: f"{x:g}")
    parts += panel(W, "about 1,000 nodes at peak, by length", "simulated days", by_days, lambda x: f"{x:g}")
    parts.append("</svg>")
    open(sys.argv[2], "w").write("\n".join(parts) + "\n")


if __name__ == "__main__":
    main()
