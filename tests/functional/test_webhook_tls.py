"""A webhook over TLS goes to the checked address, yet verifies the certificate for the URL's name and
sends that name as SNI and Host: tested against an HTTPS receiver on 127.0.0.1 with its own CA."""

from __future__ import annotations

import datetime
import http.server
import ssl
import threading
from ipaddress import ip_address

import pytest

from tasklane.destinations import receivers
from tasklane.destinations.urls import parse_target

NAME = "hooks.tasklane.test"


def _certificate(tmp_path):
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, NAME)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=1))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(NAME)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_file, key_file


class _Receiver(http.server.BaseHTTPRequestHandler):
    seen: list

    def do_POST(self):
        self.rfile.read(int(self.headers["Content-Length"]))
        self.seen.append((self.headers["Host"], self.server.sni))  # type: ignore[attr-defined]
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def tls_receiver(tmp_path):
    cert_file, key_file = _certificate(tmp_path)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_file, key_file)
    server.sni = None

    def remember(sock, name, ctx):
        server.sni = name

    context.sni_callback = remember
    server.socket = context.wrap_socket(server.socket, server_side=True)
    _Receiver.seen = []
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server, cert_file
    server.shutdown()
    server.server_close()


def _post(port):
    # The name is never resolved here: the connection goes to the address given, as after the check.
    target = parse_target(f"https://{NAME}:{port}/hook", allow_loopback=False)
    return receivers.Post(target, ip_address("127.0.0.1"), b"{}", {"Content-Type": "application/json"})


def test_the_certificate_is_verified_for_the_name_and_the_name_is_sent_as_sni(tls_receiver, monkeypatch):
    server, cert_file = tls_receiver
    port = server.server_address[1]
    trusting = ssl.create_default_context(cafile=str(cert_file))
    monkeypatch.setattr(receivers, "_tls", lambda: trusting)
    assert receivers.post(_post(port)) == 204
    assert _Receiver.seen == [(f"{NAME}:{port}", NAME)]


def test_a_certificate_nobody_vouches_for_is_refused(tls_receiver):
    server, _ = tls_receiver
    with pytest.raises(receivers.ReceiverUnreachable, match=r"CERTIFICATE_VERIFY_FAILED|certificate verify failed"):
        receivers.post(_post(server.server_address[1]))
    assert _Receiver.seen == []


def test_a_certificate_for_another_name_is_refused(tls_receiver, monkeypatch):
    server, cert_file = tls_receiver
    trusting = ssl.create_default_context(cafile=str(cert_file))
    monkeypatch.setattr(receivers, "_tls", lambda: trusting)
    target = parse_target(f"https://other.tasklane.test:{server.server_address[1]}/", allow_loopback=False)
    with pytest.raises(receivers.ReceiverUnreachable, match=r"match|mismatch"):
        receivers.post(receivers.Post(target, ip_address("127.0.0.1"), b"{}", {}))
