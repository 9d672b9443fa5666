#!/usr/bin/env python3
"""The cost of a read from Python through the hotswap package (ctypes over
libhotswap.so), beside a plain dict lookup and a bare ctypes call in the
same run.

Starts hotswap-control and one sidecar of BUILD_DIR on loopback, publishes
100 keys, then times each case in rounds; the order of the cases is
shuffled every round so a slow spell of the machine falls on all alike.
Prints a table of the medians over the rounds (ns per read) and writes
every round as JSON.

    python3 bench/python_read.py BUILD_DIR [--rounds 15] [--reads 200000] [--out FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import sys
import tempfile
import timeit

here = os.path.dirname(os.path.abspath(__file__))
sdk = os.path.join(here, "..", "client-sdk", "python")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("build")
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--reads", type=int, default=200_000, help="reads per case and round")
    parser.add_argument("--out", default=None)
    args = parser.parse_args()
    build = os.path.abspath(args.build)
    os.environ.setdefault("HOTSWAP_LIBRARY", f"{build}/client-sdk/dist/libhotswap.so")
    sys.path[:0] = [os.path.join(sdk, "src"), os.path.join(sdk, "tests")]
    import hotswap
    from cluster import Control, remove_scope_segments, start_sidecar, stop, wait_until

    entries = {f"key.{i:03d}": {"type": "int64", "value": i} for i in range(97)}
    entries.update({"limit": {"type": "int64", "value": 100},
                    "ratio": {"type": "double", "value": 0.5},
                    "banner": {"type": "string", "value": "welcome to the checkout"}})
    plain = {key: entry["value"] for key, entry in entries.items()}
    scope = f"bench-py-{os.getpid()}"
    with tempfile.TemporaryDirectory(prefix="hotswap-bench-python-") as work:
        control = Control(build, f"{work}/control")
        sidecar = None
        try:
            control.create_namespace("bench/python")
            sidecar = start_sidecar(build, control, ["bench/python"], f"{work}/cache", scope)
            control.publish_and_deploy("bench/python", entries)
            client = hotswap.Client("bench/python", scope=scope, open_timeout=20)
            assert wait_until(lambda: client.get("limit", None) == 100)
            handle = client.handle("limit")
            snapshot = client.snapshot()
            lib = hotswap._native.lib
            cases = {
                "dict_lookup": lambda: plain["limit"],
                "ctypes_bare_call": lib.hotswap_last_error,
                "get_int": lambda: client.get_int("limit"),
                "get_float": lambda: client.get_float("ratio"),
                "handle_get": handle.get,
                "get_str": lambda: client.get_str("banner"),
                "snapshot_lookup": lambda: snapshot["limit"],
                "get_any": lambda: client.get("limit"),
            }
            rounds = {name: [] for name in cases}
            for _ in range(args.rounds):
                order = list(cases)
                random.shuffle(order)
                for name in order:
                    seconds = timeit.timeit(cases[name], number=args.reads)
                    rounds[name].append(seconds / args.reads * 1e9)
            snapshot.close()
            handle.close()
            client.close()
        finally:
            if sidecar is not None:
                stop(sidecar)
            stop(control.process)
            remove_scope_segments(scope)

    medians = {name: statistics.median(values) for name, values in rounds.items()}
    baseline = medians["dict_lookup"]
    print(f"{'case':<18} {'ns/read':>9} {'min':>9} {'x dict':>8}")
    for name, median in medians.items():
        print(f"{name:<18} {median:9.1f} {min(rounds[name]):9.1f} {median / baseline:8.1f}")
    result = {
        "context": {"python": platform.python_version(), "implementation": platform.python_implementation(),
                    "rounds": args.rounds, "reads_per_round": args.reads, "loadavg": os.getloadavg()},
        "median_ns": medians,
        "rounds_ns": rounds,
    }
    if args.out:
        with open(args.out, "w") as f:
            json.dump(result, f, indent=2)
    print(json.dumps({"median_ns": {k: round(v, 1) for k, v in medians.items()}}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
