"""Load driver run as its own process: an open-loop fixed-rate client and a flood client.

    python bench/driver.py rate  SPEC --rate 200 --seconds 8
    python bench/driver.py flood SPEC --concurrency 200 --seconds 10 --sources 200
    python bench/driver.py slow  SPEC --concurrency 60 --seconds 10

SPEC is a JSON file: {"host", "port", "requests": [{"method", "path", "headers", "body"}]};
requests are sent round-robin. One JSON line of results goes to stdout.

`rate` is open-loop, like wrk2: request i is due at start + i / rate whatever happened
to earlier ones, and its latency is counted from when it was due, not from when it was
sent, so a stalled server shows up in the percentiles instead of slowing the client down
(coordinated omission). `lag_ms` says how late the client itself sent: if it grows, the
client, not the server, was the bottleneck.

`flood` keeps `concurrency` requests in flight (closed loop), each connection bound to
one of `sources` loopback addresses (127.0.1.1, 127.0.1.2, ...), so that a per-client
rate limit keyed on the address sees that many clients, as it would in a real flood.

`slow` is slowloris: `concurrency` connections that send a request's headers a byte a second
and never finish them; one the server closes is opened again at once, so that many are
always held. It reports how many times that happened.

`rate` spreads its requests over `sources` loopback addresses when given (round-robin), so
that a per-address limit in front sees that many clients.

Every request opens its own connection and sends `Connection: close`: gunicorn's sync
workers close after each response anyway.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import sys
import time
from collections import Counter
from typing import Any

TIMEOUT = 120.0


def build_requests(spec: dict[str, Any]) -> list[bytes]:
    """Raw HTTP/1.1 requests from the spec."""
    host = f"{spec['host']}:{spec['port']}"
    raw = []
    for item in spec["requests"]:
        body = (item.get("body") or "").encode("utf-8")
        lines = [
            f"{item['method']} {item['path']} HTTP/1.1",
            f"Host: {host}",
            "Connection: close",
            "Accept: application/json",
        ]
        lines += [f"{name}: {value}" for name, value in (item.get("headers") or {}).items()]
        if body:
            lines += ["Content-Type: application/json", f"Content-Length: {len(body)}"]
        raw.append(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)
    return raw


async def exchange(host: str, port: int, payload: bytes, source: str | None = None) -> int:
    """Send one request on a fresh connection; the response's status code."""
    return (await exchange_head(host, port, payload, source))[0]


async def exchange_head(host: str, port: int, payload: bytes, source: str | None = None) -> tuple[int, float]:
    """Send one request on a fresh connection; its status code and Retry-After seconds (0 if none)."""
    local = (source, 0) if source else None
    reader, writer = await asyncio.open_connection(host, port, local_addr=local)
    retry_after = 0.0
    try:
        writer.write(payload)
        await writer.drain()
        head = await reader.readline()
        while (line := await reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"retry-after" and value.strip().isdigit():
                retry_after = float(value.strip())
        while await reader.read(65536):
            pass
    finally:
        writer.close()
    parts = head.split(b" ", 2)
    return (int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0), retry_after


def percentile(sorted_values: list[float], fraction: float) -> float | None:
    """Nearest-rank percentile of already sorted values."""
    if not sorted_values:
        return None
    rank = max(0, min(len(sorted_values) - 1, math.ceil(fraction * len(sorted_values)) - 1))
    return sorted_values[rank]


def summary(latencies: list[float], statuses: Counter, seconds: float, **extra: Any) -> dict[str, Any]:
    """Percentiles in ms, counts by status, achieved rate."""
    values = sorted(latencies)
    ok = sum(count for status, count in statuses.items() if isinstance(status, int) and 200 <= status < 300)
    return {
        "completed": len(values),
        "ok": ok,
        "statuses": {str(k): v for k, v in sorted(statuses.items(), key=lambda kv: str(kv[0]))},
        "rps": round(len(values) / seconds, 1) if seconds else None,
        "p50_ms": _ms(percentile(values, 0.50)),
        "p90_ms": _ms(percentile(values, 0.90)),
        "p99_ms": _ms(percentile(values, 0.99)),
        "max_ms": _ms(values[-1] if values else None),
        **extra,
    }


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000, 2)


def source_address(index: int, sources: int) -> str | None:
    """The loopback address client `index` sends from (127.0.1.1, 127.0.1.2, ...), or None."""
    return f"127.0.{1 + index % sources // 250}.{1 + index % sources % 250}" if sources else None


async def run_rate(
    spec: dict[str, Any], rate: float, seconds: float, raw: bool = False, sources: int = 0
) -> dict[str, Any]:
    """Open loop: send at `rate` per second for `seconds`; latency from each request's due time."""
    host, port = spec["host"], spec["port"]
    payloads = build_requests(spec)
    loop = asyncio.get_running_loop()
    latencies: list[float] = []
    statuses: Counter = Counter()
    lags: list[float] = []

    async def one(payload: bytes, due: float, source: str | None) -> None:
        try:
            status = await asyncio.wait_for(exchange(host, port, payload, source), TIMEOUT)
        except TimeoutError:
            # Counted at the timeout, not dropped: dropping the slowest would flatter the p99.
            latencies.append(TIMEOUT)
            statuses["timeout"] += 1
            return
        except OSError as exc:
            statuses[type(exc).__name__] += 1
            return
        latencies.append(loop.time() - due)
        statuses[status] += 1

    total = int(rate * seconds)
    start = loop.time() + 0.05
    tasks = []
    for i in range(total):
        due = start + i / rate
        delay = due - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        lags.append(max(0.0, loop.time() - due))
        tasks.append(asyncio.create_task(one(payloads[i % len(payloads)], due, source_address(i, sources))))
    await asyncio.gather(*tasks)
    lags.sort()
    extra = {"latencies_ms": [_ms(v) for v in latencies]} if raw else {}
    return summary(
        latencies, statuses, seconds, offered_rps=rate, sent=total, lag_p99_ms=_ms(percentile(lags, 0.99)), **extra
    )


async def run_flood(
    spec: dict[str, Any], concurrency: int, seconds: float, sources: int, polite: bool = False
) -> dict[str, Any]:
    """Closed loop: `concurrency` requests always in flight, from `sources` loopback addresses.

    `polite` clients wait out a Retry-After (at most 5 s) before their next request, as the
    service's own clients do; an attacker does not, so the flood is not polite.
    """
    host, port = spec["host"], spec["port"]
    payloads = build_requests(spec)
    loop = asyncio.get_running_loop()
    latencies: list[float] = []
    statuses: Counter = Counter()
    end = loop.time() + seconds

    async def client(index: int) -> None:
        source = source_address(index, sources)
        payload = payloads[index % len(payloads)]
        while loop.time() < end:
            sent = loop.time()
            try:
                status, retry_after = await asyncio.wait_for(
                    exchange_head(host, port, payload, source), max(0.1, end - sent)
                )
            except TimeoutError:
                return  # the flood is over; the request is abandoned in flight
            except OSError as exc:
                statuses[type(exc).__name__] += 1
                await asyncio.sleep(0.01)
                continue
            latencies.append(loop.time() - sent)
            statuses[status] += 1
            if polite and retry_after:
                await asyncio.sleep(min(5.0, retry_after, max(0.0, end - loop.time())))

    await asyncio.gather(*(client(i) for i in range(concurrency)))
    return summary(latencies, statuses, seconds, concurrency=concurrency, sources=sources, polite=polite)


async def run_slow(spec: dict[str, Any], concurrency: int, seconds: float) -> dict[str, Any]:
    """Hold `concurrency` connections that trickle headers; count the ones the server closed."""
    host, port = spec["host"], spec["port"]
    loop = asyncio.get_running_loop()
    end = loop.time() + seconds
    counts: Counter = Counter()

    async def client() -> None:
        while loop.time() < end:
            try:
                reader, writer = await asyncio.open_connection(host, port)
            except OSError:
                counts["connect_errors"] += 1
                await asyncio.sleep(0.1)
                continue
            counts["opened"] += 1
            try:
                writer.write(f"GET /healthz HTTP/1.1\r\nHost: {host}\r\nX-Slow: ".encode())
                while loop.time() < end:
                    await writer.drain()
                    await asyncio.sleep(1.0)
                    if reader.at_eof():
                        counts["closed_by_server"] += 1
                        break
                    writer.write(b"a")
            except OSError:
                counts["closed_by_server"] += 1
            finally:
                writer.close()

    await asyncio.gather(*(client() for _ in range(concurrency)))
    return {"concurrency": concurrency, **counts}


def main(argv: list[str] | None = None) -> int:
    """Parse the command line, run, print one JSON line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mode", choices=["rate", "flood", "slow"])
    parser.add_argument("spec")
    parser.add_argument("--seconds", type=float, required=True)
    parser.add_argument("--rate", type=float, default=100.0)
    parser.add_argument("--concurrency", type=int, default=200)
    parser.add_argument("--sources", type=int, default=0)
    parser.add_argument("--raw", type=int, default=0, help="1: also list every latency (rate mode)")
    parser.add_argument("--polite", type=int, default=0, help="1: wait out Retry-After (flood mode)")
    args = parser.parse_args(argv)
    with open(args.spec, encoding="utf-8") as handle:
        spec = json.load(handle)
    started = time.perf_counter()
    if args.mode == "rate":
        result = asyncio.run(run_rate(spec, args.rate, args.seconds, bool(args.raw), args.sources))
    elif args.mode == "slow":
        result = asyncio.run(run_slow(spec, args.concurrency, args.seconds))
    else:
        result = asyncio.run(run_flood(spec, args.concurrency, args.seconds, args.sources, bool(args.polite)))
    result["wall_s"] = round(time.perf_counter() - started, 2)
    sys.stdout.write(json.dumps(result) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
