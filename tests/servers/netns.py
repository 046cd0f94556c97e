"""A network link the tests can cut: a veth pair into a network namespace of its own, with a relay
(tests/servers/relay.py) inside it that forwards a port to a server on this side.

    link = CuttableLink()               # LinkUnavailable(reason) without root or ``ip netns``
    link.relay(993, link.near, dovecot.imaps_port)   # a client connects to link.far:993
    link.cut()                          # packets on the link vanish: no error, no reset
    link.restore()
    link.close()                        # relays stopped, namespace and veth pair gone

Cutting takes the namespace's end of the pair down: whatever the client sends is dropped on the
way and nothing comes back, as on a black-holed route or behind a NAT that forgot the connection.
Both ends know each other's hardware address for good (permanent neighbour entries), so the cut
looks like a fault past the first hop: no failed address resolution turns it into "no route to
host". Loopback and every other interface on the machine are untouched. Names and the /30 subnet (in
10.213.0.0/16) are this process's own, so parallel test workers and runs do not meet.
"""

from __future__ import annotations

import ipaddress
import itertools
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
POOL = ipaddress.ip_network("10.213.0.0/16")
_made = itertools.count(1)


class LinkUnavailable(RuntimeError):
    """This machine cannot make the link (not root, no iproute2, no network namespaces)."""


def _ip(*args: str, netns: str | None = None, check: bool = True) -> subprocess.CompletedProcess:
    cmd = ["ip", *(["netns", "exec", netns, "ip"] if netns else []), *args]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if check and proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)}: {proc.stderr.strip()}")
    return proc


def _free_subnet() -> ipaddress.IPv4Network:
    """A /30 in ``POOL`` no interface here has an address in, starting at one picked by pid."""
    used = set()
    for line in _ip("-4", "-o", "addr", "show").stdout.splitlines():
        address = ipaddress.ip_interface(line.split()[3]).ip
        if address in POOL:
            used.add(int(address) & ~3)
    blocks = POOL.num_addresses // 4
    start = os.getpid() % blocks
    for k in range(blocks):
        base = int(POOL.network_address) + 4 * ((start + k) % blocks)
        if base not in used:
            return ipaddress.ip_network((base, 30))
    raise LinkUnavailable(f"no free /30 left in {POOL}")


class CuttableLink:
    def __init__(self) -> None:
        if os.geteuid() != 0:
            raise LinkUnavailable("a cuttable link needs root (ip netns, veth)")
        if shutil.which("ip") is None:
            raise LinkUnavailable("a cuttable link needs iproute2's ip command")
        n = next(_made)
        tag = f"{os.getpid()}-{n}"
        self.netns = f"replydesk-link-{tag}"
        self.near_if, self.far_if = f"rl{tag}h", f"rl{tag}n"  # within IFNAMSIZ (15)
        subnet = _free_subnet()
        self.near, self.far = str(subnet[1]), str(subnet[2])
        """``near``: this side's address (where the relay's target listens); ``far``: the
        namespace's address (what a client connects to)."""
        self._relays: list[subprocess.Popen] = []
        made = _ip("netns", "add", self.netns, check=False)
        if made.returncode != 0:
            raise LinkUnavailable(f"ip netns add failed: {made.stderr.strip()}")
        near_mac, far_mac = (f"02:72:64:{subnet[1].packed[2]:02x}:{subnet[1].packed[3]:02x}:{end:02x}"
                             for end in (1, 2))
        self._near_mac = near_mac
        pair = _ip("link", "add", self.near_if, "address", near_mac, "type", "veth",
                   "peer", "name", self.far_if, "address", far_mac, check=False)
        if pair.returncode != 0:
            self.close()
            raise LinkUnavailable(f"ip link add type veth failed: {pair.stderr.strip()}")
        try:
            _ip("link", "set", self.far_if, "netns", self.netns)
            _ip("addr", "add", f"{self.near}/30", "dev", self.near_if)
            _ip("link", "set", self.near_if, "up")
            _ip("addr", "add", f"{self.far}/30", "dev", self.far_if, netns=self.netns)
            _ip("link", "set", self.far_if, "up", netns=self.netns)
            _ip("link", "set", "lo", "up", netns=self.netns)
            _ip("neigh", "replace", self.far, "lladdr", far_mac, "dev", self.near_if, "nud", "permanent")
            self._far_knows_near()
        except BaseException:
            self.close()
            raise

    def relay(self, port: int, target_host: str, target_port: int) -> None:
        """Listen on ``far:port`` inside the namespace and forward to ``target_host:target_port``
        (on this side, reached over the link: ``near``)."""
        proc = subprocess.Popen(
            ["ip", "netns", "exec", self.netns, sys.executable, "-m", "tests.servers.relay",
             self.far, str(port), target_host, str(target_port)],
            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self._relays.append(proc)
        assert proc.stdout is not None
        if proc.stdout.readline().strip() != "ready":
            proc.kill()
            raise RuntimeError(f"relay did not start: {proc.communicate()[1].strip()}")

    def cut(self) -> None:
        _ip("link", "set", self.far_if, "down", netns=self.netns)

    def restore(self) -> None:
        _ip("link", "set", self.far_if, "up", netns=self.netns)
        self._far_knows_near()  # taking an interface down forgets its neighbours, permanent or not

    def _far_knows_near(self) -> None:
        _ip("neigh", "replace", self.near, "lladdr", self._near_mac, "dev", self.far_if, "nud", "permanent",
            netns=self.netns)

    def close(self) -> None:
        # a namespace lives on while a process is in it: the relays go first
        for proc in self._relays:
            proc.kill()
            proc.communicate()
        self._relays.clear()
        _ip("netns", "del", self.netns, check=False)
        _ip("link", "del", self.near_if, check=False)  # gone with its peer, unless half-made

    def __repr__(self) -> str:
        return f"CuttableLink({self.near} <-> {self.far} in {self.netns})"
