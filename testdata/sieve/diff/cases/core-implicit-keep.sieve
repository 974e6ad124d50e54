#@ message: plain.eml
# An empty script keeps the message in INBOX (implicit keep).
