"""A plain TCP relay: what listens at the far end of a link the tests can cut (tests/servers/netns.py).

    python3 -m tests.servers.relay LISTEN_HOST LISTEN_PORT TARGET_HOST TARGET_PORT

prints ``ready`` once it listens, then forwards every connection byte for byte (TLS passes through
untouched: the client still verifies the server's own certificate). It sets no keepalive of its
own, so a dead link is noticed by the client alone.
"""

from __future__ import annotations

import asyncio
import sys


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except OSError:
        pass
    finally:
        writer.close()


async def _relay(target: tuple[str, int], reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        up_reader, up_writer = await asyncio.open_connection(*target)
    except OSError:
        writer.close()
        return
    await asyncio.gather(_pipe(reader, up_writer), _pipe(up_reader, writer))


async def serve(listen: tuple[str, int], target: tuple[str, int]) -> None:
    server = await asyncio.start_server(lambda r, w: _relay(target, r, w), *listen)
    print("ready", flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    host, port, target_host, target_port = sys.argv[1:5]
    asyncio.run(serve((host, int(port)), (target_host, int(target_port))))
