import socket

_given: set[int] = set()


def free_port() -> int:
    """A loopback port free now, and never one this process was given before: the kernel may
    hand the same free port out twice in a row (a Dovecot asked for three then refused to start
    with a duplicate listener)."""
    while True:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port not in _given:
            _given.add(port)
            return port
