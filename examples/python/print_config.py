"""A Python program reading its configuration through the hotswap package:
it waits up to 10 s for the sidecar to publish NAMESPACE, prints every key
of the active version, then each version that follows, `--follow N` times.

    pip install client-sdk/python
    python3 print_config.py acme/checkout-prod [--scope SCOPE] [--follow N]
"""
import argparse

import hotswap

parser = argparse.ArgumentParser()
parser.add_argument("namespace")
parser.add_argument("--scope", help="the sidecar's --scope (default: HOTSWAP_SCOPE)")
parser.add_argument("--follow", type=int, default=0, help="versions to wait for and print")
args = parser.parse_args()

with hotswap.Client(args.namespace, scope=args.scope, open_timeout=10) as client:
    for printed in range(args.follow + 1):
        if printed:
            client.wait_for_change(timeout=30)
        with client.snapshot() as config:
            print(f"version {config.version}")
            for key, value in config.items():
                print(f"{key} = {value}", flush=True)
