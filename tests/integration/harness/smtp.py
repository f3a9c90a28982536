"""A minimal SMTP receiver on loopback that keeps every message it is given.

Speaks enough of RFC 5321 for libcurl and smtplib: EHLO/HELO, AUTH PLAIN and AUTH LOGIN (any
credentials accepted and recorded, unless require_auth/credentials say otherwise), MAIL FROM,
RCPT TO, DATA (dot-unstuffing), RSET, NOOP, VRFY, QUIT. No TLS: STARTTLS is not offered.
"""

import base64
import email
import email.policy
import socket
import socketserver
import threading
import time


class SmtpMessage:
    """One accepted message: mail_from (str), rcpt_to (list of str), data (bytes, as received,
    unstuffed), helo (str), auth ((user, password) or None), time (time.time()).
    message: the data parsed with the email package (subject = message["Subject"], ...)."""

    def __init__(self, mail_from, rcpt_to, data, helo, auth):
        self.mail_from, self.rcpt_to, self.data, self.helo, self.auth = mail_from, rcpt_to, data, helo, auth
        self.time = time.time()

    @property
    def message(self):
        return email.message_from_bytes(self.data, policy=email.policy.default)

    @property
    def subject(self):
        return self.message["Subject"]

    def body_text(self):
        """The text/plain part (or the whole body) decoded."""
        msg = self.message
        part = msg.get_body(preferencelist=("plain", "html")) if msg.is_multipart() else msg
        return part.get_content() if part is not None else ""

    def __repr__(self):
        return f"<SmtpMessage from={self.mail_from} to={self.rcpt_to} {len(self.data)}B>"


def _addr(arg):
    """The address inside 'FROM:<a@b> SIZE=1' / 'TO:<a@b>'."""
    arg = arg.split(":", 1)[1].strip() if ":" in arg else arg
    if arg.startswith("<"):
        return arg[1:arg.find(">")] if ">" in arg else arg[1:]
    return arg.split()[0] if arg else ""


class _Handler(socketserver.StreamRequestHandler):
    timeout = 60

    def reply(self, line):
        self.wfile.write((line + "\r\n").encode("utf-8"))

    def readline(self):
        line = self.rfile.readline(65536)
        if not line:
            raise ConnectionError("client went away")
        return line.decode("utf-8", "replace").rstrip("\r\n")

    def handle(self):
        sink = self.server.sink
        sink._track(self.connection, True)
        try:
            self._session(sink)
        except (ConnectionError, OSError, socket.timeout):
            pass
        finally:
            sink._track(self.connection, False)

    def _reset(self):
        self.mail_from, self.rcpt_to = None, []

    def _session(self, sink):
        self.helo, self.auth = "", None
        self._reset()
        self.reply(f"220 {sink.hostname} ESMTP smplat-sink ready")
        while True:
            line = self.readline()
            verb, _, arg = line.partition(" ")
            verb = verb.upper()
            if verb == "EHLO":
                self.helo = arg
                self.reply(f"250-{sink.hostname} greets {arg}")
                self.reply("250-AUTH PLAIN LOGIN")
                self.reply("250-SIZE 10485760")
                self.reply("250-8BITMIME")
                self.reply("250 SMTPUTF8")
            elif verb == "HELO":
                self.helo = arg
                self.reply(f"250 {sink.hostname}")
            elif verb == "AUTH":
                self._auth(sink, arg)
            elif verb == "MAIL":
                if sink.require_auth and self.auth is None:
                    self.reply("530 5.7.0 Authentication required")
                    continue
                self._reset()
                self.mail_from = _addr(arg)
                self.reply("250 2.1.0 OK")
            elif verb == "RCPT":
                if self.mail_from is None:
                    self.reply("503 5.5.1 MAIL first")
                    continue
                self.rcpt_to.append(_addr(arg))
                self.reply("250 2.1.5 OK")
            elif verb == "DATA":
                if not self.rcpt_to:
                    self.reply("503 5.5.1 RCPT first")
                    continue
                self.reply("354 End data with <CR><LF>.<CR><LF>")
                data = self._read_data()
                if sink.reject_data:
                    self.reply("554 5.6.0 Message rejected")
                else:
                    sink._store(SmtpMessage(self.mail_from, list(self.rcpt_to), data, self.helo, self.auth))
                    self.reply("250 2.0.0 OK queued")
                self._reset()
            elif verb == "RSET":
                self._reset()
                self.reply("250 2.0.0 OK")
            elif verb == "NOOP":
                self.reply("250 2.0.0 OK")
            elif verb == "VRFY":
                self.reply("252 2.1.5 Cannot VRFY user")
            elif verb == "QUIT":
                self.reply("221 2.0.0 Bye")
                return
            else:
                self.reply("502 5.5.2 Command not recognized")

    def _read_data(self):
        lines = []
        while True:
            raw = self.rfile.readline(1 << 20)
            if not raw:
                raise ConnectionError("client went away in DATA")
            if raw in (b".\r\n", b".\n"):
                break
            if raw.startswith(b".."):
                raw = raw[1:]
            lines.append(raw)
        return b"".join(lines)

    def _auth(self, sink, arg):
        mech, _, initial = arg.partition(" ")
        mech = mech.upper()
        try:
            if mech == "PLAIN":
                if not initial:
                    self.reply("334 ")
                    initial = self.readline()
                parts = base64.b64decode(initial).split(b"\0")
                user, password = parts[-2].decode(), parts[-1].decode()
            elif mech == "LOGIN":
                if initial:
                    user = base64.b64decode(initial).decode()
                else:
                    self.reply("334 VXNlcm5hbWU6")
                    user = base64.b64decode(self.readline()).decode()
                self.reply("334 UGFzc3dvcmQ6")
                password = base64.b64decode(self.readline()).decode()
            else:
                self.reply("504 5.5.4 Unrecognized authentication type")
                return
        except (ValueError, IndexError):
            self.reply("501 5.5.2 Cannot decode response")
            return
        if sink.credentials is not None and (user, password) != tuple(sink.credentials):
            self.reply("535 5.7.8 Authentication credentials invalid")
            return
        self.auth = (user, password)
        sink.auths.append(self.auth)
        self.reply("235 2.7.0 Authentication successful")


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def handle_error(self, request, client_address):
        # A client that resets or drops its connection is normal here (wrk, curl timeouts,
        # the binary under test giving up); anything else is printed as usual.
        import sys
        if isinstance(sys.exc_info()[1], (OSError, ValueError)):
            return
        super().handle_error(request, client_address)


class SmtpSink:
    """start() / stop(); host, port, url ("smtp://127.0.0.1:P"); messages (list copy);
    wait_for(n, timeout=5.0) -> messages; clear().
    Options (attributes, changeable any time): require_auth (False), credentials
    (None = accept any, else (user, password)), reject_data (False: 554 after DATA).
    auths: every (user, password) that authenticated."""

    hostname = "smtp-sink.test"

    def __init__(self, host="127.0.0.1"):
        self.host = host
        self.require_auth = False
        self.credentials = None
        self.reject_data = False
        self.auths = []
        self._messages = []
        self._cond = threading.Condition()
        self._conns = set()
        self._srv = None

    def start(self):
        self._srv = _Server((self.host, 0), _Handler)
        self._srv.sink = self
        self.port = self._srv.server_address[1]
        self._thread = threading.Thread(target=self._srv.serve_forever, kwargs={"poll_interval": 0.05},
                                        name=f"smtp-sink-{self.port}", daemon=True)
        self._thread.start()
        return self

    def stop(self):
        if self._srv is None:
            return
        self._srv.shutdown()
        self._srv.server_close()
        with self._cond:
            conns = list(self._conns)
        for c in conns:
            try:
                c.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self._thread.join(5)
        self._srv = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    @property
    def url(self):
        return f"smtp://{self.host}:{self.port}"

    def _track(self, conn, add):
        with self._cond:
            (self._conns.add if add else self._conns.discard)(conn)

    def _store(self, msg):
        with self._cond:
            self._messages.append(msg)
            self._cond.notify_all()

    @property
    def messages(self):
        with self._cond:
            return list(self._messages)

    def clear(self):
        with self._cond:
            self._messages.clear()
            self.auths.clear()

    def wait_for(self, n=1, timeout=5.0):
        deadline = time.monotonic() + timeout
        with self._cond:
            while len(self._messages) < n:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"expected {n} message(s), got {len(self._messages)}")
                self._cond.wait(left)
            return list(self._messages)
