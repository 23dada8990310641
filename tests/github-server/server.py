#!/usr/bin/env python3
"""A loopback stand-in for the GitHub REST API endpoints `stackwire sync` uses (issue 4).

    python3 tests/github-server/server.py [--token T] [--latency-ms 50]
                                          [--max-writes-per-second N] [--retry-after 1]

Listens on 127.0.0.1, port chosen by the system, and prints the port alone on its first stdout
line. Exits when its stdin closes (so a test that dies takes it along) or on SIGTERM.

Behaves as GitHub does for (repo, environment and org scopes):
  GET    …/secrets                 names + dates, paginated (per_page ≤ 100, page, Link header)
  GET    …/secrets/public-key      {key_id, key}: an X25519 key per scope (PyNaCl)
  PUT    …/secrets/{name}          sealed box, decrypted here with the scope's private key
                                   (libsodium via PyNaCl's SealedBox); 201 created, 204 updated
  DELETE …/secrets/{name}          204, 404
  GET    …/variables               values + dates, paginated (per_page ≤ 30)
  POST   …/variables               201, 409 when it exists
  GET/PATCH/DELETE …/variables/{name}   200/204, 404
  GET    /repos/{owner}/{repo}     {id, …} (org `selected` visibility needs repository ids)
where … is /repos/{o}/{r}/actions, /repos/{o}/{r}/environments/{env} or /orgs/{org}/actions.
Names are stored upper-cased; invalid names, a GITHUB_ prefix, values over 48 KB, an unknown
key_id or an undecryptable value answer 422; a wrong token 401. Every answer carries the
x-ratelimit-* headers and a Date header; `updated_at` uses the same (adjustable) clock.

Control API for tests (no token needed):
  GET  /_control/state     {"scopes": {scope: {key_id, secrets: {NAME: {value (plaintext),
                           key_id, created_at, updated_at, visibility, selected_repository_ids}},
                           variables: {...}}}, "log": [{method, path, status, conn, t}],
                           "writes", "rejected", "max_in_flight", "connections"}
  POST /_control/faults    [{"method": "PUT", "path": "regex", "kind": "429" | "403-secondary" |
                           "403-primary" | "403" | "502" | "500" | "drop" | "422" |
                           "echo-auth", "times": 1 (-1: always), "retry_after": 1}] (appended)
  POST /_control/clear-faults
  POST /_control/seed      {"scope": "repo:o/r" | "environment:o/r/env" | "org:o",
                           "secrets": {N: plaintext}, "variables": {N: value},
                           "hidden": [N] (left out of listings, to simulate a race)}
  POST /_control/missing   {"paths": ["/repos/o/r/environments/x"]} answer 404 under these
  POST /_control/clock     {"advance": seconds}
  POST /_control/config    {"latency_ms": 50, "max_writes_per_second": N, "retry_after": 1}
  POST /_control/reset-log
Scope keys: repo:owner/repo, environment:owner/repo/env, org:org.
"""

import argparse
import base64
import json
import os
import re
import socket
import sys
import threading
import time
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlsplit

from nacl.public import PrivateKey, SealedBox

NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
MAX_VALUE = 48 * 1024
WRITE_METHODS = {"PUT", "POST", "PATCH", "DELETE"}


class State:
    def __init__(self, args):
        self.lock = threading.RLock()
        self.token = args.token
        self.latency = args.latency_ms / 1000.0
        self.max_wps = args.max_writes_per_second
        self.retry_after = args.retry_after
        self.clock_offset = 0.0
        self.scopes = {}
        self.keys = {}  # scope -> (key_id, PrivateKey)
        self.next_key_id = 568250167242549743
        self.repo_ids = {}
        self.log = []
        self.faults = []
        self.missing = []
        self.accepted_writes = deque()
        self.writes = 0
        self.rejected = 0
        self.in_flight = 0
        self.max_in_flight = 0
        self.connections = set()
        self.rate_remaining = 5000

    def now(self):
        return time.time() + self.clock_offset

    def stamp(self):
        return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(self.now()))

    def scope(self, key):
        if key not in self.scopes:
            self.scopes[key] = {"secrets": {}, "variables": {}, "hidden": set()}
        return self.scopes[key]

    def key_for(self, scope):
        if scope not in self.keys:
            self.next_key_id += 1
            self.keys[scope] = (str(self.next_key_id), PrivateKey.generate())
        return self.keys[scope]

    def repo_id(self, full):
        if full not in self.repo_ids:
            self.repo_ids[full] = 100000 + len(self.repo_ids) + 1
        return self.repo_ids[full]


def parse_scope(path):
    """(scope key, rest segments, is_org) for an API path, or None."""
    parts = [unquote(p) for p in path.strip("/").split("/")]
    if len(parts) >= 5 and parts[0] == "repos" and parts[3] == "environments":
        return "environment:%s/%s/%s" % (parts[1], parts[2], parts[4]), parts[5:], False
    if len(parts) >= 4 and parts[0] == "repos" and parts[3] == "actions":
        return "repo:%s/%s" % (parts[1], parts[2]), parts[4:], False
    if len(parts) >= 3 and parts[0] == "orgs" and parts[2] == "actions":
        return "org:%s" % parts[1], parts[3:], True
    return None


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in separate writes: without TCP_NODELAY, Nagle + delayed ACK
    # would add ~40 ms to every answer with a body.
    disable_nagle_algorithm = True
    server_version = "GitHub.com"
    sys_version = ""

    def log_message(self, *args):  # quiet
        pass

    def date_time_string(self, timestamp=None):
        st = self.server.state
        return super().date_time_string(st.now() if timestamp is None else timestamp)

    # ---- plumbing -------------------------------------------------------------------------

    def body_json(self):
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        if not raw:
            return None
        try:
            return json.loads(raw)
        except ValueError:
            return "invalid"

    def answer(self, status, body=None, headers=None):
        st = self.server.state
        payload = b"" if body is None else json.dumps(body).encode()
        self.send_response(status)
        with st.lock:
            st.rate_remaining = max(st.rate_remaining - 1, 0)
            remaining = st.rate_remaining
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("x-ratelimit-limit", "5000")
        self.send_header("x-ratelimit-remaining", str(remaining))
        self.send_header("x-ratelimit-used", str(5000 - remaining))
        self.send_header("x-ratelimit-reset", str(int(st.now()) + 3600))
        self.send_header("x-ratelimit-resource", "core")
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if payload:
            self.wfile.write(payload)
        self.status = status

    def error(self, status, message, headers=None):
        self.answer(
            status,
            {"message": message, "documentation_url": "https://docs.github.com/rest", "status": str(status)},
            headers,
        )

    def do_GET(self):
        self.dispatch("GET")

    def do_PUT(self):
        self.dispatch("PUT")

    def do_POST(self):
        self.dispatch("POST")

    def do_PATCH(self):
        self.dispatch("PATCH")

    def do_DELETE(self):
        self.dispatch("DELETE")

    def dispatch(self, method):
        st = self.server.state
        url = urlsplit(self.path)
        if url.path.startswith("/_control/"):
            self.body = self.body_json()
            return self.control(method, url.path)
        self.body = self.body_json()
        self.status = 0
        conn = "%s:%s" % self.client_address[:2]
        with st.lock:
            st.connections.add(conn)
            st.in_flight += 1
            st.max_in_flight = max(st.max_in_flight, st.in_flight)
        try:
            if st.latency:
                time.sleep(st.latency)
            dropped = self.api(method, url)
        finally:
            with st.lock:
                st.in_flight -= 1
                st.log.append(
                    {
                        "method": method,
                        "path": self.path,
                        "status": "dropped" if dropped else self.status,
                        "conn": conn,
                        "t": time.time(),
                    }
                )

    # ---- faults and limits ----------------------------------------------------------------

    def fault(self, method, path):
        st = self.server.state
        with st.lock:
            for f in st.faults:
                if f.get("times", 1) == 0:
                    continue
                if f.get("method") and f["method"] != method:
                    continue
                if f.get("path") and not re.search(f["path"], path):
                    continue
                if f.get("times", 1) > 0:
                    f["times"] = f.get("times", 1) - 1
                return f
        return None

    def inject(self, f):
        """Answer with the fault; True when the connection was dropped."""
        kind = f["kind"]
        ra = str(f.get("retry_after", 1))
        st = self.server.state
        if kind == "drop":
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return True
        if kind == "429":
            self.error(429, "Too many requests", {"retry-after": ra})
        elif kind == "403-secondary":
            self.error(
                403,
                "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.",
                {"retry-after": ra},
            )
        elif kind == "403-primary":
            self.send_response(403)
            payload = json.dumps({"message": "API rate limit exceeded for user."}).encode()
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.send_header("x-ratelimit-limit", "5000")
            self.send_header("x-ratelimit-remaining", "0")
            self.send_header("x-ratelimit-reset", str(int(st.now()) + int(f.get("reset_in", 1))))
            self.end_headers()
            self.wfile.write(payload)
            self.status = 403
        elif kind == "403":
            self.error(403, "Resource not accessible by personal access token")
        elif kind == "echo-auth":
            self.error(422, "Invalid request: got authorization %s" % self.headers.get("Authorization"))
        else:
            self.error(int(kind), "Injected failure %s" % kind)
        return False

    def over_write_limit(self):
        st = self.server.state
        if not st.max_wps:
            return False
        now = time.time()
        with st.lock:
            while st.accepted_writes and now - st.accepted_writes[0] >= 1.0:
                st.accepted_writes.popleft()
            if len(st.accepted_writes) >= st.max_wps:
                st.rejected += 1
                return True
            st.accepted_writes.append(now)
            return False

    # ---- the API ----------------------------------------------------------------------------

    def api(self, method, url):
        st = self.server.state
        path = url.path
        f = self.fault(method, path)
        if f:
            return self.inject(f)
        auth = self.headers.get("Authorization", "")
        if auth not in ("Bearer " + st.token, "token " + st.token):
            self.error(401, "Bad credentials")
            return False
        for prefix in st.missing:
            if path == prefix or path.startswith(prefix + "/"):
                self.error(404, "Not Found")
                return False
        if method in WRITE_METHODS:
            if self.over_write_limit():
                self.error(
                    403,
                    "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.",
                    {"retry-after": str(st.retry_after)},
                )
                return False
        m = re.fullmatch(r"/repos/([^/]+)/([^/]+)", path)
        if m and method == "GET":
            full = "%s/%s" % (unquote(m.group(1)), unquote(m.group(2)))
            with st.lock:
                rid = st.repo_id(full)
            self.answer(200, {"id": rid, "name": unquote(m.group(2)), "full_name": full})
            return False
        parsed = parse_scope(path)
        if not parsed:
            self.error(404, "Not Found")
            return False
        scope_key, rest, is_org = parsed
        if not rest or rest[0] not in ("secrets", "variables"):
            self.error(404, "Not Found")
            return False
        kind, rest = rest[0], rest[1:]
        query = parse_qs(url.query)
        if kind == "secrets":
            self.secrets(method, scope_key, rest, is_org, query)
        else:
            self.variables(method, scope_key, rest, is_org, query)
        if method in WRITE_METHODS and 200 <= self.status < 300:
            with st.lock:
                st.writes += 1
        return False

    def page(self, items, query, max_per_page, default_per_page):
        per_page = min(int(query.get("per_page", [default_per_page])[0]), max_per_page)
        page = max(int(query.get("page", ["1"])[0]), 1)
        total = len(items)
        last = max((total + per_page - 1) // per_page, 1)
        chunk = items[(page - 1) * per_page : page * per_page]
        host = self.headers.get("Host")
        base = "http://%s%s" % (host, urlsplit(self.path).path)
        links = []
        if page < last:
            links.append('<%s?per_page=%d&page=%d>; rel="next"' % (base, per_page, page + 1))
            links.append('<%s?per_page=%d&page=%d>; rel="last"' % (base, per_page, last))
        if page > 1:
            links.append('<%s?per_page=%d&page=%d>; rel="prev"' % (base, per_page, page - 1))
            links.append('<%s?per_page=%d&page=1>; rel="first"' % (base, per_page))
        return total, chunk, ({"Link": ", ".join(links)} if links else {})

    def check_name(self, name):
        if not NAME_RE.match(name):
            self.error(422, "Invalid name: %s" % name)
            return False
        if name.upper().startswith("GITHUB_"):
            self.error(422, "Secret names must not start with GITHUB_.")
            return False
        return True

    def visibility(self, body, entry):
        vis = body.get("visibility")
        if vis not in ("all", "private", "selected"):
            self.error(422, "Invalid visibility: %r" % (vis,))
            return False
        entry["visibility"] = vis
        if vis == "selected":
            ids = body.get("selected_repository_ids")
            if not isinstance(ids, list) or not all(isinstance(i, int) for i in ids):
                self.error(422, "selected_repository_ids must be a list of integers")
                return False
            entry["selected_repository_ids"] = ids
        return True

    def secrets(self, method, scope_key, rest, is_org, query):
        st = self.server.state
        with st.lock:
            scope = st.scope(scope_key)
            key_id, private = st.key_for(scope_key)
        if not rest and method == "GET":
            with st.lock:
                names = sorted(n for n in scope["secrets"] if n not in scope["hidden"])
                items = []
                for n in names:
                    s = scope["secrets"][n]
                    item = {"name": n, "created_at": s["created_at"], "updated_at": s["updated_at"]}
                    if is_org:
                        item["visibility"] = s.get("visibility", "private")
                        if item["visibility"] == "selected":
                            item["selected_repositories_url"] = "http://%s/orgs/x/actions/secrets/%s/repositories" % (
                                self.headers.get("Host"),
                                n,
                            )
                    items.append(item)
            total, chunk, links = self.page(items, query, 100, 30)
            return self.answer(200, {"total_count": total, "secrets": chunk}, links)
        if rest == ["public-key"] and method == "GET":
            return self.answer(
                200, {"key_id": key_id, "key": base64.b64encode(bytes(private.public_key)).decode()}
            )
        if len(rest) != 1:
            return self.error(404, "Not Found")
        name = rest[0].upper()
        if method == "GET":
            with st.lock:
                s = scope["secrets"].get(name)
            if not s:
                return self.error(404, "Not Found")
            return self.answer(200, {"name": name, "created_at": s["created_at"], "updated_at": s["updated_at"]})
        if method == "DELETE":
            with st.lock:
                existed = scope["secrets"].pop(name, None)
            return self.answer(204) if existed else self.error(404, "Not Found")
        if method != "PUT":
            return self.error(404, "Not Found")
        body = self.body
        if not isinstance(body, dict) or not isinstance(body.get("encrypted_value"), str) or not isinstance(
            body.get("key_id"), str
        ):
            return self.error(422, "Invalid request: encrypted_value and key_id are required")
        if not self.check_name(name):
            return
        if body["key_id"] != key_id:
            return self.error(422, "Bad key_id: this scope's key is %s" % key_id)
        try:
            sealed = base64.b64decode(body["encrypted_value"], validate=True)
            plain = SealedBox(private).decrypt(sealed).decode("utf-8")
        except Exception as e:  # noqa: BLE001 - any failure is the client's
            return self.error(422, "Cannot decrypt encrypted_value: %s" % type(e).__name__)
        if len(plain.encode()) > MAX_VALUE:
            return self.error(422, "Secret value is too large (48 KB maximum)")
        entry = {"value": plain, "key_id": body["key_id"], "sealed_len": len(sealed)}
        if is_org and not self.visibility(body, entry):
            return
        with st.lock:
            old = scope["secrets"].get(name)
            now = st.stamp()
            entry["created_at"] = old["created_at"] if old else now
            entry["updated_at"] = now
            scope["secrets"][name] = entry
            scope["hidden"].discard(name)
        self.answer(204 if old else 201)

    def variables(self, method, scope_key, rest, is_org, query):
        st = self.server.state
        with st.lock:
            scope = st.scope(scope_key)
        if not rest and method == "GET":
            with st.lock:
                items = []
                for n in sorted(scope["variables"]):
                    if n in scope["hidden"]:
                        continue
                    v = scope["variables"][n]
                    item = {
                        "name": n,
                        "value": v["value"],
                        "created_at": v["created_at"],
                        "updated_at": v["updated_at"],
                    }
                    if is_org:
                        item["visibility"] = v.get("visibility", "private")
                    items.append(item)
            total, chunk, links = self.page(items, query, 30, 10)
            return self.answer(200, {"total_count": total, "variables": chunk}, links)
        body = self.body
        if not rest and method == "POST":
            if not isinstance(body, dict) or not isinstance(body.get("name"), str):
                return self.error(422, "Invalid request: name is required")
            name = body["name"].upper()
            if not self.check_name(name):
                return
            value = body.get("value")
            if not isinstance(value, str) or value == "":
                return self.error(422, "Invalid request: value is required")
            if len(value.encode()) > MAX_VALUE:
                return self.error(422, "Variable value is too large (48 KB maximum)")
            with st.lock:
                if name in scope["variables"]:
                    return self.error(409, "Already exists - Variable already exists")
            entry = {"value": value}
            if is_org and not self.visibility(body, entry):
                return
            with st.lock:
                now = st.stamp()
                entry["created_at"] = entry["updated_at"] = now
                scope["variables"][name] = entry
            return self.answer(201, {})
        if len(rest) != 1:
            return self.error(404, "Not Found")
        name = rest[0].upper()
        with st.lock:
            existing = scope["variables"].get(name)
        if method == "GET":
            if not existing:
                return self.error(404, "Not Found")
            return self.answer(200, dict(name=name, **{k: existing[k] for k in ("value", "created_at", "updated_at")}))
        if method == "DELETE":
            with st.lock:
                gone = scope["variables"].pop(name, None)
                scope["hidden"].discard(name)
            return self.answer(204) if gone else self.error(404, "Not Found")
        if method == "PATCH":
            if not existing:
                return self.error(404, "Not Found")
            if not isinstance(body, dict):
                return self.error(422, "Invalid request")
            value = body.get("value", existing["value"])
            if not isinstance(value, str) or value == "":
                return self.error(422, "Invalid request: value must be a non-empty string")
            if len(value.encode()) > MAX_VALUE:
                return self.error(422, "Variable value is too large (48 KB maximum)")
            entry = dict(existing)
            entry["value"] = value
            if is_org and "visibility" in body and not self.visibility(body, entry):
                return
            with st.lock:
                entry["updated_at"] = st.stamp()
                scope["variables"][name] = entry
                scope["hidden"].discard(name)
            return self.answer(204)
        return self.error(404, "Not Found")

    # ---- control ------------------------------------------------------------------------

    def control(self, method, path):
        st = self.server.state
        body = self.body if isinstance(self.body, (dict, list)) else {}
        if path == "/_control/state" and method == "GET":
            with st.lock:
                scopes = {}
                for k, s in st.scopes.items():
                    scopes[k] = {
                        "key_id": st.keys[k][0] if k in st.keys else None,
                        "secrets": s["secrets"],
                        "variables": s["variables"],
                    }
                doc = {
                    "scopes": scopes,
                    "log": st.log,
                    "writes": st.writes,
                    "rejected": st.rejected,
                    "max_in_flight": st.max_in_flight,
                    "connections": len(st.connections),
                    "repo_ids": st.repo_ids,
                }
                return self.answer(200, doc)
        if method != "POST":
            return self.error(404, "Not Found")
        with st.lock:
            if path == "/_control/faults":
                st.faults.extend(body if isinstance(body, list) else [body])
            elif path == "/_control/clear-faults":
                st.faults = []
            elif path == "/_control/missing":
                st.missing.extend(body.get("paths", []))
            elif path == "/_control/clock":
                st.clock_offset += float(body.get("advance", 0))
            elif path == "/_control/config":
                if "latency_ms" in body:
                    st.latency = body["latency_ms"] / 1000.0
                if "max_writes_per_second" in body:
                    st.max_wps = body["max_writes_per_second"]
                if "retry_after" in body:
                    st.retry_after = body["retry_after"]
            elif path == "/_control/reset-log":
                st.log = []
                st.connections = set()
                st.max_in_flight = 0
                st.writes = 0
                st.rejected = 0
            elif path == "/_control/seed":
                scope = st.scope(body["scope"])
                key_id, _ = st.key_for(body["scope"])
                now = st.stamp()
                for n, v in body.get("secrets", {}).items():
                    scope["secrets"][n.upper()] = {
                        "value": v,
                        "key_id": key_id,
                        "created_at": now,
                        "updated_at": now,
                        "visibility": body.get("visibility", "private"),
                    }
                for n, v in body.get("variables", {}).items():
                    scope["variables"][n.upper()] = {
                        "value": v,
                        "created_at": now,
                        "updated_at": now,
                        "visibility": body.get("visibility", "private"),
                    }
                for n in body.get("hidden", []):
                    scope["hidden"].add(n.upper())
            else:
                return self.error(404, "Not Found")
        self.answer(200, {"ok": True})


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256  # clients that open a connection per request, all at once


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--token", default="ghp_test_token")
    parser.add_argument("--latency-ms", type=float, default=0.0)
    parser.add_argument("--max-writes-per-second", type=int, default=0)
    parser.add_argument("--retry-after", type=int, default=1)
    args = parser.parse_args()
    server = Server(("127.0.0.1", 0), Handler)
    server.state = State(args)
    print(server.server_address[1], flush=True)

    def watch_stdin():
        try:
            while sys.stdin.buffer.read(65536):
                pass
        except (OSError, ValueError):
            pass
        os._exit(0)

    threading.Thread(target=watch_stdin, daemon=True).start()
    try:
        server.serve_forever(poll_interval=0.1)
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
