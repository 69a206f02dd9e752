"""Load on `gankit serve`: N clients on loopback, each asking for M images one after another.

Prints requests/s and latency percentiles (p50, p99) and how many answers were not 200 (503
Busy, when more clients than the server's slots connect at once).

    python benchmarks/serve_load.py [--clients 8] [--requests 200] [--pretrained mnist-dcgan] [--record]
"""

import argparse
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from record import machine, markdown_table, record  # noqa: E402

from gankit.explore.server import MAX_WORKERS, Explorer, make_server  # noqa: E402
from gankit.generator import load  # noqa: E402


def client(base: str, k: int, n: int, latencies: list, codes: list) -> None:
    for i in range(n):
        url = f"{base}/image.png?seed={k * n + i}&seed_b={i}&t=0.5&psi=1"
        start = time.perf_counter()
        try:
            with urllib.request.urlopen(url, timeout=60) as r:
                r.read()
                code = r.status
        except urllib.error.HTTPError as e:
            code = e.code
        latencies.append(time.perf_counter() - start)
        codes.append(code)


def percentile(values: list, q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(q / 100 * len(s)))]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--clients", type=int, default=8)
    p.add_argument("--requests", type=int, default=200, help="per client")
    p.add_argument("--pretrained", default="mnist-dcgan")
    p.add_argument("--record", action="store_true", help="write the table into docs/benchmarks.md")
    args = p.parse_args()
    torch.set_num_threads(1)
    srv = make_server(Explorer(load(None, args.pretrained)), port=0)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{srv.server_address[1]}"
    latencies, codes = [], []
    threads = [threading.Thread(target=client, args=(base, k, args.requests, latencies, codes))
               for k in range(args.clients)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    seconds = time.perf_counter() - start
    srv.shutdown()
    srv.server_close()
    n = len(latencies)
    rows = [[args.clients, n, f"{n / seconds:.0f}", f"{1000 * percentile(latencies, 50):.1f}",
             f"{1000 * percentile(latencies, 99):.1f}", sum(c != 200 for c in codes)]]
    table = markdown_table(["clients", "requests", "requests/s", "p50 ms", "p99 ms", "not 200"], rows)
    print(table)
    if args.record:
        record("serve_load", f"""## `gankit serve` under load (`benchmarks/serve_load.py`)

`python benchmarks/serve_load.py --clients {args.clients} --requests {args.requests} --record`:
{args.clients} clients on loopback, each asking for {args.requests} interpolated images of
`--pretrained {args.pretrained}` one after another (a new connection each, as the page does).
The server renders one image at a time and handles at most {MAX_WORKERS} connections at once.

{table}

Machine: {machine()}.""")


if __name__ == "__main__":
    main()
