"""A discarding SMTP server for send benchmarks: accepts everything on 127.0.0.1, port 0.
Prints `READY <port>` once listening; serves until killed."""
import asyncio

from aiosmtpd.smtp import SMTP


class Sink:
    async def handle_DATA(self, server, session, envelope):
        return "250 2.0.0 Ok: queued as BENCH%d" % len(envelope.content)


async def main():
    loop = asyncio.get_running_loop()
    # aiosmtpd's Controller cannot bind port 0, so serve with asyncio directly.
    # data_size_limit=0: messages of any size are taken.
    server = await loop.create_server(
        lambda: SMTP(Sink(), data_size_limit=0, enable_SMTPUTF8=True), "127.0.0.1", 0
    )
    print("READY %d" % server.sockets[0].getsockname()[1], flush=True)
    await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main())
