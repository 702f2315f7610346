"""Time of one structure on the web page: the request that predicts with every bundled model.

    python benchmarks/web_latency.py --repeats 5

Calls the application in-process (FastAPI's test client, no network): the first request loads
the models, the next ones are what a user waits for. Prints seconds and writes
benchmarks/results_web_latency.json.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import tempfile
import time
from pathlib import Path


def main() -> None:
    from fastapi.testclient import TestClient

    from crystaldos.web.app import EXAMPLES, create_app

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--out", type=Path,
                        default=Path(__file__).parent / "results_web_latency.json")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as run:
        start = time.perf_counter()
        client = TestClient(create_app(run))
        startup = time.perf_counter() - start
        times = {}
        for name in EXAMPLES:
            runs = []
            for _ in range(args.repeats + 1):
                t0 = time.perf_counter()
                r = client.post("/api/structure", data={"example": name})
                runs.append(time.perf_counter() - t0)
                r.raise_for_status()
            times[name] = runs
        models = [m["name"] for m in r.json()["models"]]
    first = next(iter(times.values()))[0]
    warm = [t for runs in times.values() for t in runs[1:]]
    result = {"models": models, "app_start_s": round(startup, 3),
              "first_request_s": round(first, 3),
              "warm_request_median_s": round(statistics.median(warm), 3),
              "warm_request_max_s": round(max(warm), 3), "requests": len(warm),
              "machine": f"{platform.machine()}, {platform.processor() or 'cpu'}"}
    args.out.write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
