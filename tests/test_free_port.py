"""``free_port``: each pytest-xdist worker picks from its own ports, none handed out twice lately.

An engine started on a port ``free_port`` found free exited "port in use" in a CI run: between
the pick and the engine's bind (seconds: a process started, its imports) another worker had
picked and bound the same port. The workers now pick from disjoint shares of the range.
"""

from __future__ import annotations

from tests.services import LISTEN_PORTS, free_port, own_ports


def _share(worker: str, count: int) -> range:
    return own_ports({"PYTEST_XDIST_WORKER": worker, "PYTEST_XDIST_WORKER_COUNT": str(count)})


def test_each_worker_has_its_own_ports_within_the_range() -> None:
    for count in (2, 4, 6):
        shares = [_share(f"gw{n}", count) for n in range(count)]
        taken = [port for share in shares for port in share]
        assert len(taken) == len(set(taken))  # disjoint
        assert set(taken) <= set(LISTEN_PORTS)
        assert all(len(share) >= 2000 for share in shares)
    assert own_ports({}) == LISTEN_PORTS  # not under xdist: the whole range
    assert own_ports({"PYTEST_XDIST_WORKER": "master"}) == LISTEN_PORTS


def test_a_port_is_not_handed_out_twice_in_a_row() -> None:
    ports = [free_port() for _ in range(300)]
    assert len(set(ports)) == len(ports)
    assert set(ports) <= set(own_ports())
