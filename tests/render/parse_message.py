#!/usr/bin/python3
"""Parses one RFC 5322 message (argv[1]) with Python's email package — an
independent parser — and prints its structure as JSON, with defects."""
import email
import email.policy
import json
import sys

with open(sys.argv[1], "rb") as f:
    raw = f.read()
msg = email.message_from_bytes(raw, policy=email.policy.SMTP)
parts = []
for part in msg.walk():
    if part.is_multipart():
        continue
    payload = part.get_content()
    parts.append({
        "type": part.get_content_type(),
        "filename": part.get_filename(),
        "content": payload.replace("\r\n", "\n") if isinstance(payload, str) else None,
        "size": len(payload),
        "defects": [str(d) for d in part.defects],
    })
out = {
    "from": str(msg["From"]),
    "to": str(msg["To"]),
    "subject": str(msg["Subject"]),
    "message_id": str(msg["Message-ID"]),
    "date": str(msg["Date"]),
    "headers": {k: str(v) for k, v in msg.items()},
    "content_type": msg.get_content_type(),
    "parts": parts,
    "defects": [str(d) for d in msg.defects],
    "max_line": max(len(l) for l in raw.split(b"\r\n")),
    "bare_lf": raw.replace(b"\r\n", b"").count(b"\n"),
}
print(json.dumps(out))
