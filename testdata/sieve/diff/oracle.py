#!/usr/bin/env python3
"""Run one differential-test case through Pigeonhole's sieve-test and print
the normalized JSON result on stdout (the format of NAME.expected.json).

Usage: oracle.py CASE.sieve

The case's directives ("#@ key: value" comment lines, see README.md) choose
the message, the envelope, the extensions and settings. sieve-test runs as a
dry run (the "Performed actions" list) and, for "#@ execute: yes" cases,
once more with -e to capture the messages Pigeonhole really sends (vacation
replies after the RFC 3834 checks, redirects).

Needs sieve-test (Debian package dovecot-sieve). When run as root, sieve-test
drops to nobody, so everything is copied to a world-readable temporary
directory first.
"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))

# Headers of sent messages that depend on the clock, the host or chance.
VOLATILE_HEADERS = {"date", "message-id", "x-sieve"}

DEFAULT_FROM = "sender@example.org"
DEFAULT_TO = "recipient@example.com"


def directives(path):
    """Parse the leading "#@ key: value" lines of a case script."""
    d = {"setting": [], "mailboxes": [], "special-use": [], "env": []}
    with open(path, "rb") as f:
        for raw in f:
            line = raw.decode("utf-8", "replace").rstrip("\r\n")
            if not line.startswith("#"):
                break
            m = re.match(r"#@\s*([a-z-]+)\s*:\s?(.*)$", line)
            if not m:
                continue
            key, val = m.group(1), m.group(2).strip()
            if key in ("setting", "env", "special-use"):
                d[key].append(val)
            elif key == "mailboxes":
                d[key].extend(v.strip() for v in val.split(",") if v.strip())
            else:
                d[key] = val
    return d


def write_config(work, d):
    lines = []
    if os.getuid() == 0:
        lines += ["mail_uid = nobody", "mail_gid = nogroup"]
    lines += [
        "first_valid_uid = 1",
        "mail_location = maildir:%s/Maildir" % work,
        "postmaster_address = postmaster@example.com",
        "namespace inbox {",
        "  inbox = yes",
        "  separator = /",
    ]
    for su in d["special-use"]:
        name, flag = su.split("=", 1)
        lines += ["  mailbox \"%s\" {" % name.strip(), "    special_use = %s" % flag.strip(), "  }"]
    lines += ["}", "plugin {",
              "  sieve = file:%s/personal" % work,
              "  sieve_global = %s/global" % work]
    for s in d["setting"]:
        k, v = s.split("=", 1)
        lines.append("  %s = %s" % (k.strip(), v.strip()))
    lines.append("}")
    with open(os.path.join(work, "test.conf"), "w") as f:
        f.write("\n".join(lines) + "\n")


def make_maildir(work, names):
    root = os.path.join(work, "Maildir")
    dirs = [root] + [os.path.join(root, "." + n.replace("/", ".")) for n in names]
    for d in dirs:
        for sub in ("cur", "new", "tmp"):
            os.makedirs(os.path.join(d, sub), exist_ok=True)
    if os.getuid() == 0:
        subprocess.run(["chown", "-R", "nobody:nogroup", root], check=True)


def sieve_test_argv(work, d, script, message, execute):
    argv = ["sieve-test", "-c", os.path.join(work, "test.conf")]
    if execute:
        argv.append("-e")
    sender = d.get("from", DEFAULT_FROM)
    argv += ["-f", "<>" if sender in ("", "<>") else sender]
    argv += ["-r", d.get("to", DEFAULT_TO)]
    if "orig-to" in d:
        argv += ["-a", d["orig-to"]]
    if "mailbox" in d:
        argv += ["-m", d["mailbox"]]
    if d.get("extensions"):
        argv += ["-x", d["extensions"]]
    argv += [script, message]
    return argv


def parse_dry(text):
    """Parse the "Performed actions" / "Implicit keep" listing."""
    out = {"actions": [], "implicit_keep": None}
    section = None
    cur = None
    in_msg = False
    body = []
    for ln in text.split("\n"):
        if in_msg:
            if ln == "END MESSAGE":
                in_msg = False
                cur["message"] = "\n".join(body).replace("\r", "")
                body = []
            else:
                body.append(ln)
            continue
        if ln == "Performed actions:":
            section = "performed"
            continue
        if ln == "Implicit keep:":
            section = "implicit"
            continue
        if ln.startswith(" * "):
            cur = action(ln[3:])
            if section == "performed":
                out["actions"].append(cur)
            else:
                out["implicit_keep"] = cur
            continue
        if ln.startswith("        + ") and cur is not None:
            side_effect(cur, ln[10:])
            continue
        m = re.match(r"    => (\S+)\s*: ?(.*)$", ln)
        if m and cur is not None:
            cur.setdefault("params", {})[m.group(1)] = m.group(2).replace("\r", "")
            continue
        if ln == "START MESSAGE" and cur is not None:
            in_msg = True
    return out


def action(desc):
    m = re.match(r"store message in folder: (.*)$", desc)
    if m:
        return {"type": "store", "mailbox": m.group(1)}
    m = re.match(r"redirect message to: <(.*)>$", desc)
    if m:
        return {"type": "redirect", "address": m.group(1)}
    m = re.match(r"reject message with reason: (.*)$", desc)
    if m:
        return {"type": "reject", "reason": m.group(1)}
    if desc == "discard":
        return {"type": "discard"}
    if desc == "send vacation message:":
        return {"type": "vacation"}
    m = re.match(r"track( last)? duplicate(?: with handle: (.*))?$", desc)
    if m:
        return {"type": "duplicate"}
    return {"type": "other", "text": desc}


def side_effect(cur, se):
    m = re.match(r"add IMAP flags: ?(.*)$", se)
    if m:
        cur["flags"] = m.group(1).split()
    elif se == "preserve implicit keep":
        cur["copy"] = True
    elif se == "create mailbox if it does not exist":
        cur["create"] = True
    else:
        m = re.match(r"use mailbox with special-use flag `(.*)' instead if accessible$", se)
        if m:
            cur["special_use"] = m.group(1)
        else:
            cur.setdefault("side_effects", []).append(se)


def split_message(raw):
    """Split a sent message into (headers, body); CRLF becomes LF."""
    raw = raw.replace("\r\n", "\n")
    head, _, body = raw.partition("\n\n")
    headers = []
    for ln in head.split("\n"):
        if ln[:1] in (" ", "\t") and headers:
            headers[-1][1] += " " + ln.strip()
        elif ":" in ln:
            name, _, value = ln.partition(":")
            headers.append([name.strip(), value.strip()])
    headers = [h for h in headers if h[0].lower() not in VOLATILE_HEADERS]
    return headers, body.replace("\r", "").rstrip("\n")


def parse_exec(stdout, stderr):
    """Parse the output of sieve-test -e: the messages it would have sent.

    sieve-test writes each sent message to stdout unbuffered and the
    "RECIPIENT: x / START MESSAGE: / END MESSAGE" trailers through a
    buffered stream, so all messages come first and all trailers last."""
    m = re.search(r"\n?\nRECIPIENT: ", stdout)
    msgs_part, tail = (stdout[:m.start()], stdout[m.start():]) if m else (stdout, "")
    recipients = re.findall(r"^RECIPIENT: (.*)$", tail, re.M)
    senders = re.findall(r"sending message from <(.*?)>:", stderr)
    chunks = [c for c in re.split(r"(?m)^(?=X-Sieve: Pigeonhole)", msgs_part) if c.strip()]
    sent = []
    for i, chunk in enumerate(chunks):
        headers, body = split_message(chunk)
        kind = "redirect" if any(h[0].lower() == "x-sieve-redirected-from" for h in headers) else "vacation"
        sent.append({
            "type": kind,
            "envelope_from": senders[i] if i < len(senders) else None,
            "recipient": recipients[i] if i < len(recipients) else None,
            "headers": headers,
            "body": body,
        })
    log = sorted(set(re.findall(r"^info: msgid=\S* ?(?:<[^>]*>)?:? ?((?:vacation|redirect) action: .*)$", stderr, re.M)))
    return {"sent": sent, "log": log}


def run_case(path):
    d = directives(path)
    if "message" not in d:
        raise SystemExit("%s: no '#@ message:' directive" % path)
    if d.get("from", None) in ("", "<>"):
        # sieve-test refuses both -f "<>" and -f "" ("Invalid -f parameter"),
        # and without -f it makes up a sender: the null reverse path cannot
        # be expressed. Such cases need an entry in EXPECTED.md.
        return {"unsupported": "sieve-test cannot run with the null envelope sender"}
    work = tempfile.mkdtemp(prefix="sieve-diff.")
    try:
        os.chmod(work, 0o777)
        script = os.path.join(work, "script.sieve")
        message = os.path.join(work, "message.eml")
        shutil.copy(path, script)
        with open(os.path.join(HERE, "messages", d["message"]), "rb") as f:
            raw = f.read()
        # Messages arrive over LMTP with CRLF line ends; both sides get that.
        with open(message, "wb") as f:
            f.write(re.sub(rb"\r?\n", b"\r\n", raw))
        for loc in ("personal", "global"):
            shutil.copytree(os.path.join(HERE, "include", loc), os.path.join(work, loc))
        for root, dirs, files in os.walk(work):
            for n in dirs:
                os.chmod(os.path.join(root, n), 0o755)
            for n in files:
                os.chmod(os.path.join(root, n), 0o644)
        write_config(work, d)
        make_maildir(work, d["mailboxes"])

        p = subprocess.run(sieve_test_argv(work, d, script, message, False),
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=work)
        stdout = p.stdout.decode("utf-8", "replace")
        stderr = p.stderr.decode("utf-8", "replace")
        if "failed to compile sieve script" in stderr:
            return {"refused": True}
        if p.returncode != 0 or "Performed actions:" not in stdout:
            return {"runtime_error": True}
        out = parse_dry(stdout)
        if d.get("execute") == "yes":
            p = subprocess.run(sieve_test_argv(work, d, script, message, True),
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=work)
            out["exec"] = parse_exec(p.stdout.decode("utf-8", "replace"),
                                     p.stderr.decode("utf-8", "replace"))
        return out
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit(__doc__)
    print(json.dumps(run_case(sys.argv[1]), indent=1, ensure_ascii=False, sort_keys=True))
