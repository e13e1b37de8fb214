"""asyncio echo servers: streams (start_server, read/write/drain) or a
Protocol (data_received -> transport.write), on the default event loop or
on uvloop.

    python asyncio_echo.py --api streams|protocol --loop asyncio|uvloop [--port 0]

With --loop uvloop and uvloop not installed, prints "skip: <why>" and
exits with status 3. The first line on stdout is "listening on HOST:PORT".
"""

import argparse
import asyncio
import sys

SKIP = 3


class Echo(asyncio.Protocol):
    def connection_made(self, transport):
        self.transport = transport

    def data_received(self, data):
        self.transport.write(data)


async def on_client(reader, writer):
    try:
        while True:
            data = await reader.read(65536)
            if not data:
                break
            writer.write(data)
            await writer.drain()
    except ConnectionError:
        pass
    finally:
        writer.close()


async def serve(api, host, port):
    loop = asyncio.get_running_loop()
    if api == "streams":
        server = await asyncio.start_server(on_client, host, port, backlog=1024)
    else:
        server = await loop.create_server(Echo, host, port, backlog=1024)
    h, p = server.sockets[0].getsockname()[:2]
    print(f"listening on {h}:{p}", flush=True)
    async with server:
        await server.serve_forever()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--api", choices=["streams", "protocol"], default="streams")
    ap.add_argument("--loop", choices=["asyncio", "uvloop"], default="asyncio")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    args = ap.parse_args()
    if args.loop == "uvloop":
        try:
            import uvloop
        except ImportError as e:
            print(f"skip: uvloop is not installed ({e})", flush=True)
            sys.exit(SKIP)
        run = uvloop.run
    else:
        run = asyncio.run
    try:
        run(serve(args.api, args.host, args.port))
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
