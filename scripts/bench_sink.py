"""A discarding SMTP server for send benchmarks: accepts everything on 127.0.0.1, port 0.
Prints `READY <port>` once listening; serves until killed."""
import asyncio
import sys

from aiosmtpd.controller import Controller


class Sink:
    async def handle_DATA(self, server, session, envelope):
        return "250 2.0.0 Ok: queued as BENCH%d" % len(envelope.content)


def main():
    # data_size_limit=0: no limit, messages of any size are taken.
    ctl = Controller(Sink(), hostname="127.0.0.1", port=0, data_size_limit=0)
    ctl.start()
    port = ctl.server.sockets[0].getsockname()[1]
    print("READY %d" % port, flush=True)
    try:
        sys.stdin.read()  # until our parent closes stdin or kills us
    finally:
        ctl.stop()


if __name__ == "__main__":
    main()
