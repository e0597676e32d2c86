#!/usr/bin/python3
"""A scriptable remote MTA for Salvo's SMTP client tests, built on aiosmtpd.

It is a real SMTP server (aiosmtpd's protocol engine); the flags only choose
what it advertises and how it answers. Every accepted transaction is appended
to --out as one JSON line: envelope, DSN parameters and the content as
received (after the server's own dot-unstuffing). Prints "PORT <n>" when
listening. Loopback only.

Delivery tests also use: --host/--port (listen on 127.0.0.x with a given
port, so that MX hosts on several loopback addresses share the port the
client is told to use), --events (a JSON line per connection opened and
closed and per message, with times, for shaping checks) and --drop-in-data N
(close the connection instead of answering the first N DATA transactions).
Pipelining tests use --chunks (a JSON line per chunk of bytes as read from a
connection, to see what the client sent in one write) and --reject-data
(answer 554 at the end of data to a message whose content matches);
--data-delay S waits S seconds before answering the end of data.
"""
import argparse
import asyncio
import json
import re
import ssl
import sys
import time

from aiosmtpd.smtp import SMTP


def log_event(args, event, **fields):
    if not args.events:
        return
    fields.update({"event": event, "t": time.time()})
    with open(args.events, "a") as f:
        f.write(json.dumps(fields) + "\n")


class Handler:
    def __init__(self, args):
        self.args = args
        self.rcpt_attempts = {}
        self.data_seen = 0

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        session.host_name = hostname
        out = []
        for r in responses:
            if self.args.no_8bitmime and r.endswith("8BITMIME"):
                continue
            out.append(r)
        if self.args.pipelining:
            out.insert(-1, "250-PIPELINING")
            out.insert(-1, "250-ENHANCEDSTATUSCODES")
        return out

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        if self.args.tarpit:
            await asyncio.sleep(self.args.tarpit)
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 2.1.0 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.args.reject_rcpt and re.search(self.args.reject_rcpt, address):
            return "550 5.1.1 <%s>: Recipient address rejected: User unknown" % address
        if self.args.tempfail_rcpt and re.search(self.args.tempfail_rcpt, address):
            n = self.rcpt_attempts.get(address, 0) + 1
            self.rcpt_attempts[address] = n
            if n <= self.args.tempfail_times:
                return "451 4.7.1 <%s>: try again later" % address
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.append(rcpt_options)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.args.data_delay:
            await asyncio.sleep(self.args.data_delay)
        self.data_seen += 1
        if self.data_seen <= self.args.drop_in_data:
            log_event(self.args, "dropped", peer="%s:%d" % session.peer[:2])
            server.transport.close()
            return "421 4.4.2 closing"
        content = envelope.original_content.decode("utf-8", "surrogateescape")
        if self.args.reject_data and re.search(self.args.reject_data, content):
            return "554 5.7.1 message content rejected"
        log_event(self.args, "message", peer="%s:%d" % session.peer[:2],
                  rcpts=len(envelope.rcpt_tos))
        record = {
            "mail_from": envelope.mail_from,
            "mail_options": envelope.mail_options,
            "rcpt_tos": envelope.rcpt_tos,
            "rcpt_options": envelope.rcpt_options,
            "content": content,
            "tls": session.ssl is not None,
            "ehlo": session.host_name,
            "peer": session.peer[0],
            "t": time.time(),
        }
        with open(self.args.out, "a") as f:
            f.write(json.dumps(record) + "\n")
        return "250 2.0.0 Message accepted for delivery"


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--out", required=True)
    p.add_argument("--pipelining", action="store_true")
    p.add_argument("--no-8bitmime", action="store_true")
    p.add_argument("--smtputf8", action="store_true")
    p.add_argument("--size", type=int, default=33554432)
    p.add_argument("--cert")
    p.add_argument("--key")
    p.add_argument("--require-starttls", action="store_true")
    p.add_argument("--reject-rcpt")
    p.add_argument("--tempfail-rcpt")
    p.add_argument("--tempfail-times", type=int, default=1)
    p.add_argument("--tarpit", type=float, default=0)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--events")
    p.add_argument("--drop-in-data", type=int, default=0)
    p.add_argument("--chunks")
    p.add_argument("--reject-data")
    p.add_argument("--data-delay", type=float, default=0)
    args = p.parse_args()

    tls_context = None
    if args.cert:
        tls_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        tls_context.load_cert_chain(args.cert, args.key)

    handler = Handler(args)

    class LoggingSMTP(SMTP):
        def connection_made(self, transport):
            if self.transport is None:  # not the STARTTLS re-entry
                peer = transport.get_extra_info("peername")
                self._peer_text = "%s:%d" % peer[:2]
                log_event(args, "connect", peer=self._peer_text)
            super().connection_made(transport)

        def data_received(self, data):
            if args.chunks:
                with open(args.chunks, "a") as f:
                    f.write(json.dumps({"peer": getattr(self, "_peer_text", "?"),
                                        "data": data.decode("latin-1")}) + "\n")
            super().data_received(data)

        def connection_lost(self, exc):
            log_event(args, "disconnect", peer=getattr(self, "_peer_text", "?"))
            super().connection_lost(exc)

    def factory():
        return LoggingSMTP(handler, hostname="peer.test", data_size_limit=args.size,
                    enable_SMTPUTF8=args.smtputf8, decode_data=False,
                    tls_context=tls_context, require_starttls=args.require_starttls)

    async def serve():
        server = await asyncio.get_running_loop().create_server(factory, args.host,
                                                                    args.port)
        print("PORT %d" % server.sockets[0].getsockname()[1], flush=True)
        await server.serve_forever()

    try:
        asyncio.run(serve())
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    sys.exit(main())
