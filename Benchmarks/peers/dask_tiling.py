#!/usr/bin/env python3
"""The tiling DAG of ../shared/reference/peers.md on Dask's threaded scheduler, beside the same work run
serially, so that `tessera bench grid` can be compared with it on the same cores.

1 root (returns the seed) -> N tiles (a deterministic SIDE x SIDE float32 tile, a 3x3 mean with
scipy.ndimage.uniform_filter, its mean) -> a binary-tree reduction of adds. Each round runs the serial
work and the Dask graph back to back; the speedup is the median of the rounds' own ratios (as in
`tessera bench grid`, whose grid time also includes building and checking the workflow). Building the Dask graph
is timed with its run (a few ms against about a second). Prints one JSON object. Needs dask, numpy and scipy.
"""
import argparse
import json
import os
import statistics
import time

import dask
import numpy as np
import scipy
from scipy import ndimage


def root(seed):
    return seed


def tile(seed, index, side):
    rng = np.random.default_rng(seed * 1_000_003 + index)
    data = rng.random((side, side), dtype=np.float32)
    return float(ndimage.uniform_filter(data, size=3, mode="nearest").mean())


def add(a, b):
    return a + b


def serial(seed, tiles, side):
    values = [tile(root(seed), i, side) for i in range(tiles)]
    while len(values) > 1:
        values = [add(values[i], values[i + 1]) if i + 1 < len(values) else values[i]
                  for i in range(0, len(values), 2)]
    return values[0]


def graph(seed, tiles, side):
    start = dask.delayed(root)(seed)
    level = [dask.delayed(tile)(start, i, side) for i in range(tiles)]
    while len(level) > 1:
        level = [dask.delayed(add)(level[i], level[i + 1]) if i + 1 < len(level) else level[i]
                 for i in range(0, len(level), 2)]
    return level[0]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=len(os.sched_getaffinity(0)))
    parser.add_argument("--tiles", type=int, default=1024)
    parser.add_argument("--side", type=int, default=256)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    if args.workers < 1 or args.tiles < 2 or args.side < 2 or args.rounds < 1:
        parser.error("--workers and --rounds must be at least 1, --tiles and --side at least 2")

    expected = serial(args.seed, args.tiles, args.side)  # warm-up and reference
    serial_times, dask_times, ratios = [], [], []
    for _ in range(args.rounds):
        start = time.perf_counter()
        value = serial(args.seed, args.tiles, args.side)
        serial_times.append(time.perf_counter() - start)
        start = time.perf_counter()
        (result,) = dask.compute(graph(args.seed, args.tiles, args.side),
                                 scheduler="threads", num_workers=args.workers)
        dask_times.append(time.perf_counter() - start)
        if value != expected or abs(result - expected) > 1e-6 * abs(expected):
            raise SystemExit(f"results differ: serial {value}, dask {result}, expected {expected}")
        ratios.append(serial_times[-1] / dask_times[-1])
    print(json.dumps({
        "peer": "dask threads", "dask": dask.__version__, "numpy": np.__version__, "scipy": scipy.__version__,
        "workers": args.workers,
        "cpus": sorted(os.sched_getaffinity(0)), "tiles": args.tiles, "side": args.side,
        "serialSeconds": statistics.median(serial_times), "daskSeconds": statistics.median(dask_times),
        "speedup": statistics.median(ratios), "speedupBest": min(serial_times) / min(dask_times),
        "tileMicros": statistics.median(serial_times) / args.tiles * 1e6,
    }))


if __name__ == "__main__":
    main()
