"""The Python baseline: email.message + smtplib sending the same files missive sends."""
import mimetypes
import smtplib
import sys
from email.message import EmailMessage
from pathlib import Path

port, text_path, attach_path = int(sys.argv[1]), sys.argv[2], sys.argv[3]
msg = EmailMessage()
msg["From"] = "Ada <ada@example.com>"
msg["To"] = "bob@example.net"
msg["Subject"] = "25 MB"
msg.set_content(Path(text_path).read_text())
ctype, _ = mimetypes.guess_type(attach_path)
maintype, subtype = (ctype or "application/octet-stream").split("/", 1)
msg.add_attachment(Path(attach_path).read_bytes(), maintype=maintype, subtype=subtype,
                   filename=Path(attach_path).name)
with smtplib.SMTP("127.0.0.1", port) as s:
    s.send_message(msg)
