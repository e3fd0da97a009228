"""Read one RFC 5322 message on stdin with Python's email package (policy.default) and
print what it sees as JSON: an independent second parser for missive's tests."""
import email
import email.policy
import hashlib
import json
import sys


def addrs(h):
    if h is None:
        return None
    out = []
    for g in h.groups:
        members = [[a.display_name, a.addr_spec] for a in g.addresses]
        if g.display_name is None:
            out.extend(["mailbox", m[0], m[1]] for m in members)
        else:
            out.append(["group", g.display_name, members])
    return out


def part_view(p):
    v = {
        "content_type": p.get_content_type(),
        "charset": p.get_content_charset(),
        "cte": p.get("content-transfer-encoding"),
        "filename": p.get_filename(),
        "defects": [type(d).__name__ for d in p.defects],
    }
    if p.get_content_maintype() == "text":
        v["text"] = p.get_content()
    elif p.get_content_type() == "message/rfc822":
        inner = p.get_payload()[0]
        v["inner_subject"] = inner["subject"]
        b = inner.get_body(preferencelist=("plain",))
        v["inner_text"] = b.get_content() if b is not None else None
    elif not p.is_multipart():
        data = p.get_payload(decode=True) or b""
        v["size"] = len(data)
        v["sha256"] = hashlib.sha256(data).hexdigest()
    return v


def main():
    raw = sys.stdin.buffer.read()
    m = email.message_from_bytes(raw, policy=email.policy.default)
    out = {
        "headers": {k.lower(): [] for k in m.keys()},
        "from": addrs(m["from"]),
        "to": addrs(m["to"]),
        "cc": addrs(m["cc"]),
        "reply_to": addrs(m["reply-to"]),
        "subject": m["subject"],
        "defects": [type(d).__name__ for d in m.defects],
        "parts": [],
        "max_line": max(len(l) for l in raw.split(b"\r\n")),
    }
    for k, v in m.items():
        out["headers"][k.lower()].append(str(v))
    for p in m.walk():
        out["defects"] += [type(d).__name__ for d in p.defects]
        if p is not m or not m.is_multipart():
            out["parts"].append(part_view(p))
    body = m.get_body(preferencelist=("plain",))
    out["text"] = body.get_content() if body is not None else None
    json.dump(out, sys.stdout)


main()
