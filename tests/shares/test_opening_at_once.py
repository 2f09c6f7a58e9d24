"""Many people opening one share at the same moment, against real gunicorn (issue 11, points 2 and 5).

Two servers on one database (the pass's backend: SQLite, or PostgreSQL), each with its
own data folder and so its own host-wide Argon2 gate, as two hosts would have: A has
4 workers (as `make serve` with WEB_CONCURRENCY=4) and 4 Argon2 slots, B has 1 worker
and 2 slots (the second host, and the fairness check). Client addresses
come from X-Forwarded-For (NOTES_TRUST_PROXY), as behind a load balancer. Argon2 runs
with argon2-cffi's real defaults.
"""

from __future__ import annotations

import threading
import time
from contextlib import ExitStack
from dataclasses import dataclass, field

import pytest
from servers import ServerPool
from support import SEED, Owner, http_owner, request, request_json

from notes_service.shares.passcodes import ArgonGate

RIGHT = "family-passcode"
RETRIES = 30  # a client that is told 503 + Retry-After tries again, as browsers' users do


@dataclass
class Hosts:
    a: object
    b: object
    gate_dir_a: object
    slots_a: int
    owner: Owner = field(init=False)


@pytest.fixture(scope="module")
def hosts(database_factory, tmp_path_factory):
    root = tmp_path_factory.mktemp("at-once")
    database_url = database_factory.new_database(root / "db")
    common = {"NOTES_TRUST_PROXY": "true", "NOTES_SHARE_RATE_LIMIT": "100000 per minute"}
    envs = [
        database_factory.env(root / name, database_url, NOTES_ARGON2_MAX_CONCURRENT=slots, **common)
        for name, slots in (("a", "4"), ("b", "2"))
    ]
    with ServerPool(root / "servers") as pool:
        a = pool.start(envs[0], workers=4)
        b = pool.start(envs[1], workers=1)
        made = Hosts(a, b, root / "a" / "argon2-gate", 4)
        made.owner = http_owner(a.url)
        status, body = made.owner.post_note(body="Ask about this")
        assert status == 201, body
        made.owner.note_id = body["id"]
        yield made
        pool.stop_all()  # before the database is dropped
    database_factory.drop(database_url)


def new_share(hosts: Hosts) -> tuple[str, str]:
    status, body = request_json(
        "POST",
        hosts.a.url + "/api/v1/shares",
        headers=hosts.owner.headers,
        body={"trial_id": SEED, "note_ids": [hosts.owner.note_id], "passcode": RIGHT},
    )
    assert status == 201, body
    return body["id"], body["url"].rsplit("/s/", 1)[1]


def share_state(hosts: Hosts, share_id: str) -> dict:
    status, body = request_json("GET", f"{hosts.a.url}/api/v1/shares/{share_id}", headers=hosts.owner.headers)
    assert status == 200, body
    return body


def open_once(server, token: str, passcode: str, address: str) -> tuple[int, dict[str, str]]:
    status, headers, _ = request(
        "POST",
        f"{server.url}/api/v1/shared/{token}",
        body={"passcode": passcode},
        headers={"X-Forwarded-For": address},
        timeout=60,
    )
    return status, headers


def open_retrying(server, token: str, passcode: str, address: str) -> list[int]:
    """Every status a client saw until it got an answer other than 503."""
    seen = []
    for _ in range(RETRIES):
        status, headers = open_once(server, token, passcode, address)
        seen.append(status)
        if status != 503:
            break
        time.sleep(int(headers["Retry-After"]))
    return seen


def at_once(calls) -> list:
    """Run the calls in threads released together; their results in order."""
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def run(index: int) -> None:
        barrier.wait()
        results[index] = calls[index]()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    return results


def test_twelve_right_passcodes_and_one_wrong_at_once(hosts):
    # 12 family members open the share at the same moment, and one wrong guess is among them:
    # every right passcode opens (none is refused as "too many wrong"), and the single wrong
    # one counts once and starts no lock.
    share_id, token = new_share(hosts)
    passcodes = [RIGHT] * 12 + ["wrong-guess"]
    seen = at_once(
        [lambda i=i: open_retrying(hosts.a, token, passcodes[i], f"10.0.1.{i}") for i in range(len(passcodes))]
    )
    print(f"twelve right and one wrong at once: statuses seen {seen}")
    assert [statuses[-1] for statuses in seen] == [200] * 12 + [401], seen
    assert not any(423 in statuses for statuses in seen), seen
    state = share_state(hosts, share_id)
    assert (state["state"], state["failed_attempts"], state["views"], state["locked_until"]) == ("active", 1, 12, None)


def test_twenty_wrong_guesses_across_hosts_get_five_verifications_then_the_lock(hosts):
    share_id, token = new_share(hosts)
    servers = [hosts.a, hosts.b]
    seen = at_once(
        [lambda i=i: open_retrying(servers[i % 2], token, f"guess-{i:04d}", f"10.0.3.{i}") for i in range(20)]
    )
    print(f"twenty wrong across two hosts: statuses seen {seen}")
    finals = [statuses[-1] for statuses in seen]
    # Each wrong verification answers 401, but the 5th, which starts the lock (423).
    assert finals.count(401) == 4 and finals.count(423) == 16, seen
    state = share_state(hosts, share_id)
    assert state["state"] == "locked" and state["failed_attempts"] == 5 and state["locked_until"]
    assert open_once(hosts.a, token, RIGHT, "10.0.3.99")[0] == 423


def test_the_gate_is_host_wide_and_a_refusal_writes_nothing(hosts):
    share_id, token = new_share(hosts)
    with ExitStack() as held:
        # This test process takes every slot of host A's gate, as other workers busy with
        # Argon2 would: then no worker of A may start one, and each refusal writes nothing.
        gate = ArgonGate(hosts.gate_dir_a, hosts.slots_a)
        for _ in range(hosts.slots_a):
            held.enter_context(gate.slot())
        results = at_once([lambda i=i: open_once(hosts.a, token, RIGHT, f"10.0.4.{i}") for i in range(4)])
        assert [status for status, _ in results] == [503] * 4, results
        assert all(headers["Retry-After"] == "1" for _, headers in results)
        state = share_state(hosts, share_id)
        assert (state["failed_attempts"], state["views"], state["last_viewed_at"]) == (0, 0, None)
    assert open_once(hosts.a, token, RIGHT, "10.0.4.99")[0] == 200


def test_a_client_opening_its_share_in_a_loop_cannot_keep_another_family_out(hosts):
    # Host B: 1 worker, 2 Argon2 slots. Client L opens its own share from 6 connections
    # without pause; family F opens theirs, one attempt at a time, and is never refused.
    _, loop_token = new_share(hosts)
    family_id, family_token = new_share(hosts)
    stop = threading.Event()
    loop_statuses: list[int] = []

    def loop() -> None:
        while not stop.is_set():
            loop_statuses.append(open_once(hosts.b, loop_token, RIGHT, "10.0.5.1")[0])

    loopers = [threading.Thread(target=loop) for _ in range(6)]
    for thread in loopers:
        thread.start()
    try:
        deadline = time.monotonic() + 120  # a bound on the wait, not a speed target
        while 200 not in loop_statuses and time.monotonic() < deadline:  # the loop is getting in
            time.sleep(0.05)
        assert 200 in loop_statuses, loop_statuses
        family = [open_once(hosts.b, family_token, RIGHT, "10.0.5.2")[0] for _ in range(3)]
    finally:
        stop.set()
        for thread in loopers:
            thread.join(timeout=120)
    print(
        f"fairness: family {family}; the loop got {loop_statuses.count(200)} opens and "
        f"{loop_statuses.count(503)} refusals"
    )
    assert family == [200] * 3
    assert share_state(hosts, family_id)["views"] == 3
