#!/usr/bin/env python3
"""A loopback HTTP/1.1 server for farm's tests (Python 3 stdlib only).

Usage: test_http_server.py [--port 0] [--files DIR] [--routes FILE] [--tls CERT KEY] [--verbose]

Binds 127.0.0.1 only, prints the chosen port on stdout (one line), then serves until killed or
until its stdin reaches end-of-file (so it dies with the test process that started it).
Connections are kept alive (HTTP/1.1). Routes (any method unless noted):

  /status/<code>                 answers <code> with {"status": code} (no body for 1xx/204/304)
  /echo                          {"method", "path", "query", "headers": {name: value},
                                  "body_length", "body_sha256", "client_port"}
  /bytes/<n>                     n bytes of the pattern (byte i = (i*31+7) & 255), with
                                 Content-Length and X-Content-SHA256; HEAD gives the headers only
  /stream/<n>                    the same n bytes, chunked (no Content-Length)
  /drip/<n>/<seconds>            the same n bytes with Content-Length, spread over <seconds>
  /slow/<seconds>                waits, then answers 200 "ok"
  /drop                          reads the request, closes the connection without an answer
  /truncated/<n>                 Content-Length n, sends n/2 bytes of the pattern, closes
  /retry/<id>/<failures>/<code>  the first <failures> requests for <id> get <code> with
                                 Retry-After: ?after= (default 0.1; "none" omits it) and, with
                                 ?reset=S, ratelimit-reset: S; then 200 {"attempts": n}
  /count/<id>                    {"attempts": n} for a /retry id, without counting
  /redirect/<n>                  ?code= (default 302) redirect to /redirect/<n-1> …; /redirect/0
                                 answers 200 {"redirected": true, "method": …}
  /redirect-to?url=U&code=C      redirects to U
  /upload                        POST multipart/form-data: {"files": [{"name", "filename",
                                 "content_type", "size", "sha256"}], "fields": {name: value}}
  /files/<path>                  static files from --files DIR (Content-Type by extension,
                                 HEAD, single byte ranges); no listing, no escaping DIR

--routes FILE adds canned responses from a JSON object keyed by path (query ignored):
  {"/page.html": {"status": 200, "headers": {"Content-Type": "text/html"},
                  "body": "<html>…</html>" | "body_file": "relative/to/FILE/or/absolute",
                  "delay": 0.0, "method": "GET"}}
Canned routes are matched before the built-in ones.

--tls CERT KEY serves HTTPS with that certificate (PEM) instead of plain HTTP.
"""

import argparse
import hashlib
import http.server
import json
import mimetypes
import os
import sys
import threading
import time
import urllib.parse

BLOCK = bytes((i * 31 + 7) & 255 for i in range(1 << 20))

digests = {}
retry_counts = {}
retry_lock = threading.Lock()


def pattern_chunks(n):
    """Yields the first n bytes of the pattern in 1 MiB pieces."""
    while n > 0:
        piece = BLOCK[: min(n, len(BLOCK))]
        n -= len(piece)
        yield piece


def pattern_digest(n):
    """The SHA-256 (hex) of the first n bytes of the pattern."""
    if n not in digests:
        hasher = hashlib.sha256()
        for chunk in pattern_chunks(n):
            hasher.update(chunk)
        digests[n] = hasher.hexdigest()
    return digests[n]


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "farm-test-server/1"
    files_dir = None
    routes = {}
    routes_dir = "."
    verbose = False

    def log_message(self, fmt, *args):
        if self.verbose:
            sys.stderr.write("test-http-server: " + (fmt % args) + "\n")

    # Dispatch ------------------------------------------------------------------------------

    def do_GET(self):
        self.dispatch()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = do_GET

    def dispatch(self):
        parsed = urllib.parse.urlsplit(self.path)
        self.query = urllib.parse.parse_qs(parsed.query)
        parts = [urllib.parse.unquote(p) for p in parsed.path.split("/") if p]
        try:
            route = self.routes.get(parsed.path)
            if route is not None and route.get("method", self.command) == self.command:
                return self.canned(route)
            name = parts[0] if parts else ""
            handler = getattr(self, "route_" + name.replace("-", "_"), None)
            if handler is None:
                self.drain_body()
                return self.send_json(404, {"error": "no route", "path": parsed.path})
            handler(parts[1:])
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    # Helpers -------------------------------------------------------------------------------

    def read_body(self):
        """The request body (Content-Length or chunked), as bytes."""
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            out = bytearray()
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return bytes(out)
                out += self.rfile.read(size)
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def drain_body(self):
        self.read_body()

    def send_bytes(self, code, body, content_type="application/octet-stream", headers=()):
        self.send_response(code)
        for name, value in headers:
            self.send_header(name, value)
        if code >= 200 and code not in (204, 304):
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD" and code >= 200 and code not in (204, 304):
            self.wfile.write(body)

    def send_json(self, code, value, headers=()):
        self.send_bytes(code, json.dumps(value).encode(), "application/json", headers)

    def number(self, parts, index, kind=int):
        return kind(parts[index]) if len(parts) > index else kind(0)

    # Routes --------------------------------------------------------------------------------

    def canned(self, route):
        self.drain_body()
        time.sleep(float(route.get("delay", 0)))
        if "body_file" in route:
            path = os.path.join(self.routes_dir, route["body_file"])
            with open(path, "rb") as f:
                body = f.read()
        else:
            body = route.get("body", "").encode()
        headers = dict(route.get("headers", {}))
        content_type = headers.pop("Content-Type", "application/octet-stream")
        self.send_bytes(int(route.get("status", 200)), body, content_type, headers.items())

    def route_status(self, parts):
        self.drain_body()
        code = self.number(parts, 0)
        self.send_json(code, {"status": code})

    def route_echo(self, parts):
        body = self.read_body()
        self.send_json(200, {
            "method": self.command,
            "path": urllib.parse.urlsplit(self.path).path,
            "query": urllib.parse.urlsplit(self.path).query,
            "headers": {k: v for k, v in self.headers.items()},
            "body_length": len(body),
            "body_sha256": hashlib.sha256(body).hexdigest(),
            "client_port": self.client_address[1],
        })

    def route_bytes(self, parts):
        self.drain_body()
        n = self.number(parts, 0)
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(n))
        self.send_header("X-Content-SHA256", pattern_digest(n))
        self.end_headers()
        if self.command != "HEAD":
            for chunk in pattern_chunks(n):
                self.wfile.write(chunk)

    def route_stream(self, parts):
        self.drain_body()
        n = self.number(parts, 0)
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        for chunk in pattern_chunks(n):
            self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
        self.wfile.write(b"0\r\n\r\n")

    def route_drip(self, parts):
        self.drain_body()
        n, seconds = self.number(parts, 0), self.number(parts, 1, float)
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(n))
        self.end_headers()
        steps = 20
        data = b"".join(pattern_chunks(n))
        for i in range(steps):
            self.wfile.write(data[i * n // steps:(i + 1) * n // steps])
            self.wfile.flush()
            time.sleep(seconds / steps)

    def route_slow(self, parts):
        self.drain_body()
        time.sleep(self.number(parts, 0, float))
        self.send_bytes(200, b"ok", "text/plain")

    def route_drop(self, parts):
        self.drain_body()
        self.close_connection = True
        self.connection.shutdown(2)

    def route_truncated(self, parts):
        self.drain_body()
        n = self.number(parts, 0)
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(n))
        self.end_headers()
        for chunk in pattern_chunks(n // 2):
            self.wfile.write(chunk)
        self.wfile.flush()
        self.close_connection = True
        self.connection.shutdown(2)

    def route_retry(self, parts):
        self.drain_body()
        key, failures, code = parts[0], self.number(parts, 1), self.number(parts, 2)
        with retry_lock:
            retry_counts[key] = retry_counts.get(key, 0) + 1
            attempts = retry_counts[key]
        if attempts <= failures:
            headers = []
            after = self.query.get("after", ["0.1"])[0]
            if after != "none":
                headers.append(("Retry-After", after))
            if "reset" in self.query:
                headers.append(("ratelimit-reset", self.query["reset"][0]))
            return self.send_json(code, {"detail": "try again", "attempts": attempts}, headers)
        self.send_json(200, {"attempts": attempts})

    def route_count(self, parts):
        self.drain_body()
        with retry_lock:
            attempts = retry_counts.get(parts[0] if parts else "", 0)
        self.send_json(200, {"attempts": attempts})

    def route_redirect(self, parts):
        self.drain_body()
        n = self.number(parts, 0)
        if n <= 0:
            return self.send_json(200, {"redirected": True, "method": self.command})
        code = int(self.query.get("code", ["302"])[0])
        query = urllib.parse.urlsplit(self.path).query
        location = "/redirect/%d" % (n - 1) + ("?" + query if query else "")
        self.send_bytes(code, b"redirect body", "text/plain", [("Location", location)])

    def route_redirect_to(self, parts):
        self.drain_body()
        code = int(self.query.get("code", ["302"])[0])
        self.send_bytes(code, b"redirect body", "text/plain", [("Location", self.query["url"][0])])

    def route_upload(self, parts):
        content_type = self.headers.get("Content-Type", "")
        body = self.read_body()
        boundary = None
        for param in content_type.split(";")[1:]:
            key, _, value = param.strip().partition("=")
            if key.lower() == "boundary":
                boundary = value.strip('"').encode()
        if not content_type.startswith("multipart/form-data") or not boundary:
            return self.send_json(400, {"error": "expected multipart/form-data"})
        files, fields = [], {}
        delimiter = b"--" + boundary
        for section in body.split(delimiter)[1:]:
            if section.startswith(b"--"):
                break
            head, _, content = section[2:].partition(b"\r\n\r\n")
            content = content[:-2] if content.endswith(b"\r\n") else content
            disposition, part_type = {}, None
            for line in head.decode("utf-8", "replace").split("\r\n"):
                name, _, value = line.partition(":")
                if name.lower() == "content-disposition":
                    for item in value.split(";")[1:]:
                        k, _, v = item.strip().partition("=")
                        disposition[k] = v.strip('"')
                elif name.lower() == "content-type":
                    part_type = value.strip()
            if "filename" in disposition:
                files.append({
                    "name": disposition.get("name"), "filename": disposition["filename"],
                    "content_type": part_type, "size": len(content),
                    "sha256": hashlib.sha256(content).hexdigest(),
                })
            else:
                fields[disposition.get("name")] = content.decode("utf-8", "replace")
        self.send_json(200, {"files": files, "fields": fields})

    def route_files(self, parts):
        self.drain_body()
        if not self.files_dir:
            return self.send_json(404, {"error": "no --files folder"})
        root = os.path.realpath(self.files_dir)
        path = os.path.realpath(os.path.join(root, *parts))
        if not path.startswith(root + os.sep) or not os.path.isfile(path):
            return self.send_json(404, {"error": "not found"})
        size = os.path.getsize(path)
        start, end, code = 0, size - 1, 200
        ranges = self.headers.get("Range", "")
        if ranges.startswith("bytes=") and "," not in ranges:
            first, _, last = ranges[6:].partition("-")
            if first:
                start, end = int(first), min(int(last), size - 1) if last else size - 1
            elif last:
                start = max(0, size - int(last))
            if start > end or start >= size:
                return self.send_bytes(416, b"", headers=[("Content-Range", "bytes */%d" % size)])
            code = 206
        content_type = mimetypes.guess_type(path)[0] or "application/octet-stream"
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(end - start + 1))
        self.send_header("Accept-Ranges", "bytes")
        if code == 206:
            self.send_header("Content-Range", "bytes %d-%d/%d" % (start, end, size))
        self.end_headers()
        if self.command == "HEAD":
            return
        with open(path, "rb") as f:
            f.seek(start)
            left = end - start + 1
            while left > 0:
                chunk = f.read(min(left, 1 << 20))
                if not chunk:
                    break
                self.wfile.write(chunk)
                left -= len(chunk)


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256


def exit_when_stdin_closes():
    try:
        while sys.stdin.buffer.read(65536):
            pass
    finally:
        os._exit(0)


def main():
    parser = argparse.ArgumentParser(description="loopback HTTP server for farm's tests")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--files")
    parser.add_argument("--routes")
    parser.add_argument("--tls", nargs=2, metavar=("CERT", "KEY"))
    parser.add_argument("--verbose", action="store_true")
    args = parser.parse_args()
    Handler.files_dir = args.files
    Handler.verbose = args.verbose
    if args.routes:
        with open(args.routes) as f:
            Handler.routes = json.load(f)
        Handler.routes_dir = os.path.dirname(os.path.abspath(args.routes))
    server = Server(("127.0.0.1", args.port), Handler)
    if args.tls:
        import ssl
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(args.tls[0], args.tls[1])
        server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=exit_when_stdin_closes, daemon=True).start()
    print(server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
