"""One POP3 session with Python's poplib, for pop3/python_test.go.

Usage: poplib_session.py HOST PORT MODE CAFILE
MODE: plain (USER/PASS), apop, stls (STLS, then USER/PASS) or tls (implicit).
Logs in as bob@example.com / secret, reads everything, deletes the last
message, and prints what it saw as JSON (message bytes in base64).
"""
import base64
import json
import poplib
import ssl
import sys

host, port, mode, cafile = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
ctx = ssl.create_default_context(cafile=cafile)
out = {}
if mode == "tls":
    p = poplib.POP3_SSL(host, port, context=ctx, timeout=30)
else:
    p = poplib.POP3(host, port, timeout=30)
out["welcome"] = p.getwelcome().decode()
if mode == "stls":
    out["capa_before_tls"] = sorted(p.capa())
    p.stls(context=ctx)
out["capa"] = sorted(p.capa())
if mode == "apop":
    p.apop("bob@example.com", "secret")
else:
    p.user("bob@example.com")
    p.pass_("secret")
count, size = p.stat()
out["stat"] = [count, size]
out["list"] = [line.decode() for line in p.list()[1]]
out["uidl"] = [line.decode() for line in p.uidl()[1]]
msgs = []
for i in range(1, count + 1):
    resp, lines, octets = p.retr(i)
    msgs.append(base64.b64encode(b"\r\n".join(lines) + b"\r\n").decode())
out["messages"] = msgs
out["top"] = base64.b64encode(b"\r\n".join(p.top(1, 0)[1]) + b"\r\n").decode()
p.dele(count)
out["quit"] = p.quit().decode()
print(json.dumps(out))
