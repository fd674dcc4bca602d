"""The signing-in proxy in front of a team's TensorBoard: HTTP basic authentication, then a reverse proxy
to TensorBoard, which listens on the pod's loopback only. Python's standard library, nothing else.

    python /app/auth_proxy.py --port 8443 --upstream http://127.0.0.1:6006

The credentials come from the environment (TENSORBOARD_USERNAME, TENSORBOARD_PASSWORD: the team's
`tensorboard-credentials` Secret), never from argv. Every request but `GET /healthz` must carry them;
a wrong or missing one gets 401 with a `WWW-Authenticate` challenge. `/healthz` (the probes) answers 200
when TensorBoard answers, 503 otherwise, and reveals nothing else.
"""
import argparse
import base64
import hmac
import http.client
import http.server
import os
import sys
import urllib.parse

# Headers that belong to one connection, not to the request (RFC 9110 7.6.1), and the credentials.
HOP_BY_HOP = {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailer", "transfer-encoding", "upgrade", "authorization", "host", "content-length"}


def authorized(header: str, username: bytes, password: bytes) -> bool:
    """Does an Authorization header carry exactly these credentials? (constant-time comparison)"""
    if not header.startswith("Basic "):
        return False
    try:
        user, _, pw = base64.b64decode(header[6:], validate=True).partition(b":")
    except ValueError:
        return False
    # Both comparisons always run: the time taken does not tell which part was wrong.
    return hmac.compare_digest(user, username) & hmac.compare_digest(pw, password)


def handler(upstream: urllib.parse.SplitResult, username: bytes, password: bytes):
    class Proxy(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "tensorboard-auth-proxy"

        def _reply(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
            self.send_response(status)
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def _forward(self, method: str, path: str, body: bytes | None, headers: dict[str, str]) -> tuple[int, list[tuple[str, str]], bytes]:
            conn = http.client.HTTPConnection(upstream.hostname, upstream.port, timeout=60)
            try:
                conn.request(method, path, body=body, headers=headers)
                r = conn.getresponse()
                return r.status, r.getheaders(), r.read()
            finally:
                conn.close()

        def _handle(self) -> None:
            if self.path == "/healthz" and self.command == "GET":
                try:
                    status, _, _ = self._forward("GET", "/data/environment", None, {})
                except OSError:
                    status = 503
                self._reply(200 if status == 200 else 503, b"ok\n" if status == 200 else b"tensorboard not ready\n", {"Content-Type": "text/plain"})
                return
            if not authorized(self.headers.get("Authorization", ""), username, password):
                self._reply(401, b"sign in\n", {"WWW-Authenticate": 'Basic realm="TensorBoard", charset="UTF-8"', "Content-Type": "text/plain"})
                return
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else None
            headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
            try:
                status, response_headers, data = self._forward(self.command, self.path, body, headers)
            except OSError:
                self._reply(502, b"tensorboard unreachable\n", {"Content-Type": "text/plain"})
                return
            self._reply(status, data, {k: v for k, v in response_headers if k.lower() not in HOP_BY_HOP})

        do_GET = do_POST = do_HEAD = _handle

        def log_message(self, fmt: str, *args) -> None:  # one line per request, no credentials
            sys.stderr.write("%s %s\n" % (self.address_string(), fmt % args))

    return Proxy


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="0.0.0.0")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--upstream", required=True, help="TensorBoard's URL, e.g. http://127.0.0.1:6006")
    a = parser.parse_args()
    username = os.environ.get("TENSORBOARD_USERNAME", "").encode()
    password = os.environ.get("TENSORBOARD_PASSWORD", "").encode()
    if not username or len(password) < 16:
        sys.exit("TENSORBOARD_USERNAME and a TENSORBOARD_PASSWORD of at least 16 characters must be set")
    server = http.server.ThreadingHTTPServer((a.host, a.port), handler(urllib.parse.urlsplit(a.upstream), username, password))
    server.daemon_threads = True
    print(f"auth proxy on {a.host}:{a.port} -> {a.upstream}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
