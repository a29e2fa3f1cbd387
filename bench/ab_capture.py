"""Capture throughput of this checkout against another one, both running at the same time.

    mkdir ../before && git archive <commit> | tar -x -C ../before   # the code to compare with
    python bench/ab_capture.py ../before [--seconds 8] [--rounds 8] [--workers 2] [--start-s 5]

For a change that should not move the figures (a refactoring): on a shared machine the
load drifts between measurements more than such a change could, so the two versions are
measured side by side instead of in turn. Each round starts ``--workers`` worker processes
of each checkout at the same instant against one database (the workers of
``capture_throughput.py``, warm, with the platform's parties known) and counts the
captures of each; drift then hits both alike. Prints this checkout's captures per second
over the other's, per round, for the recorded and the two-step flow.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from capture_throughput import _checkpoint, _recreate, _seed_parties

from paytrack.adapters.storage.db import make_engine
from paytrack.adapters.storage.migrate import migrate

HERE = Path(__file__).resolve().parent.parent

_POOL = """\
import multiprocessing as mp
from capture_throughput import _worker
if __name__ == "__main__":
    with mp.get_context("spawn").Pool({workers}) as pool:
        print(sum(pool.starmap(_worker, [({url!r}, False, {one_step}, {seconds}, {start_at},
                                          {seed} + i) for i in range({workers})])))
"""


def _start(tree: Path, url: str, *, workers: int, one_step: bool, seconds: int,
           start_at: float, seed: int) -> subprocess.Popen:
    code = _POOL.format(workers=workers, url=url, one_step=one_step, seconds=seconds,
                        start_at=start_at, seed=seed)
    env = {**os.environ, "PYTHONPATH": f"{tree / 'src'}{os.pathsep}{tree / 'bench'}"}
    return subprocess.Popen([sys.executable, "-c", code], env=env, cwd=tree,
                            stdout=subprocess.PIPE, text=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("other", type=Path, help="root of the checkout to compare with")
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2, help="per checkout")
    parser.add_argument("--start-s", type=float, default=5, help="time for the pools to "
                        "start and warm up (a worker that misses the start counts 0)")
    parser.add_argument("--server", default="postgresql+psycopg://postgres@127.0.0.1:5432")
    args = parser.parse_args()
    trees = {"this": HERE, "other": args.other.resolve()}

    url = _recreate(args.server, "paytrack_bench_ab")
    engine = make_engine(url)
    migrate(engine)
    engine.dispose()
    _seed_parties(url)

    counts: dict[str, list[float]] = {}
    for round_ in range(args.rounds):
        for flow, one_step in (("recorded", True), ("two-step", False)):
            _checkpoint(args.server)
            start_at = time.time() + args.start_s
            pools = {name: _start(tree, url, workers=args.workers, one_step=one_step,
                                  seconds=args.seconds, start_at=start_at,
                                  seed=1000 * round_ + 100 * i)
                     for i, (name, tree) in enumerate(trees.items())}
            for name, pool in pools.items():
                done = int(pool.communicate()[0].split()[-1])
                counts.setdefault(f"{name} {flow}", []).append(done / args.seconds)
        print(f"round {round_ + 1}: " + ", ".join(
            f"{key} {values[-1]:.0f}/s" for key, values in counts.items()), flush=True)

    for flow in ("recorded", "two-step"):
        this, other = counts[f"this {flow}"], counts[f"other {flow}"]
        ratios = sorted(a / b for a, b in zip(this, other, strict=True))
        print(f"{flow:>9}: this {statistics.median(this):.0f}/s, other "
              f"{statistics.median(other):.0f}/s; this ÷ other per round: median "
              f"{statistics.median(ratios):.3f}, range {ratios[0]:.2f}–{ratios[-1]:.2f}")


if __name__ == "__main__":
    main()
