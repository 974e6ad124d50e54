# Driven by imap/python_test.go: exercises the server with Python's imaplib
# (an IMAP4rev1 client). Usage: imaplib_session.py HOST PORT. Prints "ok".
import imaplib, sys, time

host, port = sys.argv[1], int(sys.argv[2])
m = imaplib.IMAP4(host, port)
assert 'IMAP4REV1' in m.capabilities, m.capabilities
typ, _ = m.login('bob@example.com', 'secret')
assert typ == 'OK'

def ok(res):
    typ, data = res
    assert typ == 'OK', (typ, data)
    return data

ok(m.create('Work/Reports'))
names = [l.decode() for l in ok(m.list('""', '*'))]
assert any(n.endswith('"/" Work/Reports') for n in names), names
ok(m.subscribe('Work/Reports'))
assert any(b'Work/Reports' in l for l in ok(m.lsub('""', 'Work/*')))
msg = b'From: Alice <alice@example.org>\r\nTo: bob@example.com\r\nSubject: Quarterly numbers\r\nDate: Mon, 23 Nov 2026 10:00:00 +0100\r\n\r\nRevenue went up.\r\n'
data = ok(m.append('INBOX', '(\\Flagged $Important)', imaplib.Time2Internaldate(time.time()), msg))
assert b'APPENDUID' in data[0], data
ok(m.append('INBOX', None, None, b'Subject: second\r\n\r\nplain\r\n'))
data = ok(m.select('INBOX'))
assert data == [b'2'], data
assert ok(m.search(None, 'FLAGGED')) == [b'1']
assert ok(m.search(None, 'SUBJECT', '"quarterly"')) == [b'1']
assert ok(m.search(None, 'BODY', 'revenue')) == [b'1']
assert ok(m.search(None, 'KEYWORD', '$Important')) == [b'1']
assert ok(m.search(None, 'NOT', 'FLAGGED')) == [b'2']
assert ok(m.uid('SEARCH', None, 'ALL')) == [b'1 2']
data = ok(m.store('2', '+FLAGS', '(\\Seen \\Answered)'))
assert b'\\Seen' in data[0] and b'\\Answered' in data[0], data
ok(m.copy('1:2', 'Work/Reports'))
st = ok(m.status('Work/Reports', '(MESSAGES UNSEEN UIDNEXT)'))
assert b'MESSAGES 2' in st[0] and b'UIDNEXT 3' in st[0], st
ok(m.store('1', '+FLAGS', '\\Deleted'))
ok(m.expunge())
assert ok(m.search(None, 'ALL')) == [b'1']
ok(m.rename('Work/Reports', '"Work/Old Reports"'))
ok(m.select('"Work/Old Reports"', readonly=True))
assert ok(m.search(None, 'ALL')) == [b'1 2']
ok(m.close())
ok(m.delete('"Work/Old Reports"'))
typ, data = m.select('Nope')
assert typ == 'NO', (typ, data)
m.logout()
print('ok')
