"""Upstreams that stand in for a service's versions behind the stack's HAProxy."""

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def version_server(version):
    """An upstream that answers with its version name (stands for a data-tier version)."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # headers and body go out without a 40 ms stall

        def do_GET(self):
            body = version.encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server
