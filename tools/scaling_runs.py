#!/usr/bin/env python3
"""Wall time and peak memory of each policy on bench-30d-1k, scaled in cluster size and in
simulated days, for docs/benchmarks.md.

Usage: tools/scaling_runs.py BINARY OUT.csv [--sizes 0.125,0.25,0.5,1,2] [--days 1,2,4,8]

The load of scenarios/bench-30d-1k.yaml is multiplied by each size factor (base, peak and
maxReplicas of every load and HPA), so a factor of 1 peaks at about 1,000 nodes. Each run uses
`autoscale-sim run --quiet` without `--out`, under /usr/bin/time for wall time and peak
resident memory.
"""
import argparse
import csv
import os
import re
import subprocess
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCENARIO = os.path.join(ROOT, "scenarios", "bench-30d-1k.yaml")


def variant(text, factor, days):
    def scale(match):
        return f"{match.group(1)}{round(float(match.group(2)) * factor)}"

    text = re.sub(r"(base: )(\d+)", scale, text)
    text = re.sub(r"(peak: )(\d+)", scale, text)
    text = re.sub(r"(maxReplicas: )(\d+)", scale, text)
    text = re.sub(r"^duration: .*$", f"duration: {days}d", text, flags=re.M)
    # Snapshots past the shortened end would be rejected.
    return text.split("\nsnapshots:")[0] + "\n"


def run(binary, path, policy):
    result = subprocess.run(
        ["/usr/bin/time", "-f", "%e %U %M", binary, "run", path, "--policy", policy, "--quiet"],
        capture_output=True,
        text=True,
        check=True,
    )
    wall, user, rss_kb = result.stderr.strip().splitlines()[-1].split()
    return float(wall), float(user), int(rss_kb)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("binary")
    parser.add_argument("out")
    parser.add_argument("--sizes", default="0.125,0.25,0.5,1,2")
    parser.add_argument("--days", default="1,2,4,8")
    parser.add_argument("--policies", default="cluster-autoscaler,karpenter")
    args = parser.parse_args()
    text = open(SCENARIO).read()
    points = [(float(f), 1) for f in args.sizes.split(",")]
    points += [(1.0, int(d)) for d in args.days.split(",") if int(d) != 1]
    with open(args.out, "w", newline="") as out, tempfile.TemporaryDirectory() as tmp:
        writer = csv.writer(out)
        writer.writerow(["policy", "size_factor", "days", "wall_s", "cpu_s", "peak_rss_mib"])
        for policy in args.policies.split(","):
            for factor, days in points:
                path = os.path.join(tmp, f"bench-{factor}-{days}.yaml")
                with open(path, "w") as f:
                    f.write(variant(text, factor, days))
                wall, user, rss = run(args.binary, path, policy)
                row = [policy, factor, days, wall, user, round(rss / 1024, 1)]
                writer.writerow(row)
                out.flush()
                print(*row, flush=True)


if __name__ == "__main__":
    main()
