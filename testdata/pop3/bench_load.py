"""Fill a user's INBOX over IMAP with the POP3 benchmark's messages.

Usage: bench_load.py HOST PORT USER PASSWORD COUNT

The messages are the same for every server and every run (seeded): sizes
spread log-uniformly from 1 KiB to 256 KiB (mean near 46 KiB), text lines,
some lines that need dot-stuffing, and a base64 "attachment" in larger ones.
APPEND keeps the bytes as they are, so Letterbox and Dovecot serve the same.
"""
import base64
import imaplib
import math
import random
import sys

host, port, user, password, count = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], int(sys.argv[5])


def message(i):
    rnd = random.Random(i)
    size = int(math.exp(rnd.uniform(math.log(1024), math.log(256 * 1024))))
    head = (
        f"Return-Path: <sender{i % 37}@example.org>\r\n"
        f"From: Sender {i % 37} <sender{i % 37}@example.org>\r\n"
        f"To: bench@example.com\r\n"
        f"Subject: benchmark message {i}\r\n"
        f"Date: Mon, 1 Jan 2024 {i % 24:02d}:{i % 60:02d}:00 +0000\r\n"
        f"Message-ID: <bench{i}@example.org>\r\n"
        f"MIME-Version: 1.0\r\n"
        f"Content-Type: text/plain; charset=utf-8\r\n\r\n"
    )
    words = ["lorem", "ipsum", "dolor", "sit", "amet", "mail", "server", "letterbox", "pop3", "."]
    body = []
    n = len(head)
    while n < size:
        if size > 32 * 1024 and rnd.random() < 0.5:
            raw = rnd.randbytes(57 * 40)
            block = base64.encodebytes(raw).decode().replace("\n", "\r\n")
            body.append(block)
            n += len(block)
            continue
        line = " ".join(rnd.choice(words) for _ in range(rnd.randint(1, 14)))
        if rnd.random() < 0.05:
            line = "." + line
        body.append(line + "\r\n")
        n += len(line) + 2
    return (head + "".join(body)).encode()


m = imaplib.IMAP4(host, port)
m.login(user, password)
m.select("INBOX")
typ, data = m.status("INBOX", "(MESSAGES)")
have = int(data[0].split(b"MESSAGES ")[1].split(b")")[0])
for i in range(have + 1, count + 1):
    typ, resp = m.append("INBOX", None, None, message(i))
    if typ != "OK":
        sys.exit(f"APPEND {i}: {resp}")
m.logout()
