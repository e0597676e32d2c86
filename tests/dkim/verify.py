#!/usr/bin/python3
"""Independent DKIM verifier for tests/dkim: python3-dkim (dkimpy).

usage: verify.py RECORDS.json MESSAGE...
RECORDS.json maps DNS names ("sel._domainkey.example.com.") to TXT text; no
real DNS is queried. Prints one line per message: for each DKIM-Signature
field, top first, "ok" or "fail".
"""
import json
import sys

import dkim


def main():
    with open(sys.argv[1]) as f:
        records = json.load(f)

    def dnsfunc(name, timeout=5):
        key = name.decode() if isinstance(name, bytes) else name
        txt = records.get(key)
        return txt.encode() if txt is not None else None

    for path in sys.argv[2:]:
        with open(path, "rb") as f:
            message = f.read()
        headers, _ = dkim.rfc822_parse(message)
        count = sum(1 for name, _ in headers if name.lower() == b"dkim-signature")
        results = []
        for idx in range(count):
            try:
                ok = dkim.DKIM(message).verify(idx=idx, dnsfunc=dnsfunc)
            except Exception as e:  # a verifier error is a failure
                sys.stderr.write("verify.py: %s: %r\n" % (path, e))
                ok = False
            results.append("ok" if ok else "fail")
        print(" ".join(results) if results else "none")


main()
