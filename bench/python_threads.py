#!/usr/bin/python3
"""Python threads develop in parallel (the GIL is released while pixels are
processed): N develops one after another, then on THREADS threads, same
files, same run; prints both times and their ratio.

  PYTHONPATH=build/python bench/python_threads.py FILE.dng [--count 4] [--threads 2] [--look authentic]
"""
import argparse
import concurrent.futures
import time

import obscura


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("file")
    ap.add_argument("--count", type=int, default=4)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--look", default="authentic")
    ap.add_argument("--repeat", type=int, default=3, help="best of this many runs each")
    a = ap.parse_args()
    raw = obscura.imread(a.file)
    work = lambda _: raw.postprocess(look=a.look)
    work(0)  # (warm: looks, kernels, memory)

    def best(run):
        times = []
        for _ in range(a.repeat):
            t = time.perf_counter()
            run()
            times.append(time.perf_counter() - t)
        return min(times)

    serial = best(lambda: [work(i) for i in range(a.count)])
    with concurrent.futures.ThreadPoolExecutor(a.threads) as pool:
        threaded = best(lambda: list(pool.map(work, range(a.count))))
    print("%d develops of %s (%s): serial %.3f s, %d threads %.3f s, ratio %.2f" %
          (a.count, a.file, a.look, serial, a.threads, threaded, threaded / serial))


if __name__ == "__main__":
    main()
