"""The simulator's HTTPS server: security.txt, the disclosure policy and the support page,
signed by a lab CA the simulator makes at start (written to the run directory)."""

from __future__ import annotations

import datetime as dt
import http.server
import ipaddress
import ssl
import threading
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


def make_certs(folder: Path) -> tuple[Path, Path, Path]:
    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "SimIoT lab CA")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
          .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(minutes=5))
          .not_valid_after(now + dt.timedelta(days=30))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
            .issuer_name(ca_name).public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=30))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                                                        x509.DNSName("localhost")]), critical=False)
            .sign(ca_key, hashes.SHA256()))
    ca_path, cert_path, key_path = folder / "lab-ca.pem", folder / "server.pem", folder / "server.key"
    ca_path.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    key_path.chmod(0o600)
    return ca_path, cert_path, key_path


def documents(persona: str, defects: dict[str, str | None], base: str) -> dict[str, str]:
    now = dt.datetime.now(dt.UTC)
    expires = now + dt.timedelta(days=-30 if "security_txt_expired" in defects else 300)
    docs: dict[str, str] = {}
    if persona != "legacy" and "no_security_txt" not in defects:
        lines = [] if "security_txt_no_contact" in defects else [
            "Contact: mailto:security@simiot.example", "Contact: https://simiot.example/security"]
        lines += [f"Expires: {expires.strftime('%Y-%m-%dT%H:%M:%SZ')}", f"Policy: {base}/security/policy",
                  "Preferred-Languages: en", f"Canonical: {base}/.well-known/security.txt"]
        docs["/.well-known/security.txt"] = "# SimIoT security contact\n" + "\n".join(lines) + "\n"
    policy = "<html><body><h1>Vulnerability disclosure policy</h1><p>Report to security@simiot.example.</p>"
    if "policy_no_timelines" not in defects:
        policy += ("<p>We acknowledge every report within 5 working days.</p>"
                   "<p>We send status updates at least every 30 days until the issue is resolved.</p>")
    docs["/security/policy"] = policy + "</body></html>"
    if persona == "legacy" or "support_period_no_end_date" in defects:
        docs["/support"] = "<html><body><p>We support our products for as long as commercially reasonable.</p></body></html>"
    else:
        docs["/support"] = ('<html><body><p>Security updates for the SimIoT Hub H1 are provided until '
                            '<time datetime="2030-12-31">31 December 2030</time>.</p></body></html>')
    return docs


def serve(folder: Path, persona: str, defects: dict[str, str | None]) -> tuple[http.server.ThreadingHTTPServer, str, Path]:
    ca, cert, key = make_certs(folder)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    base = f"https://127.0.0.1:{server.server_address[1]}"
    server.docs = documents(persona, defects, base)  # type: ignore[attr-defined]
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    server.socket = ctx.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, base, ca


class _Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 - http.server API
        body = self.server.docs.get(self.path)  # type: ignore[attr-defined]
        if body is None:
            self.send_error(404)
            return
        data = body.encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; charset=utf-8" if self.path.endswith(".txt") else "text/html")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        pass
