"""`gankit serve`: a page on localhost that redraws a generator's image as its controls change.

The standard library's threading HTTP server is enough for one user on localhost. Routes:
  /            the page (page.html, self-contained: no scripts or styles from elsewhere); its
               state is its own query, ?source=NAME& + the image's query, so views can be shared
  /info        JSON: z size, class names (empty for an unconditional G), image shape
  /image.png   one image for ?seed=&seed_b=&t=&method=&psi=&class= (400 + one line if bad);
               a video generator's clip comes as an animated GIF
Limits: MAX_WORKERS connections at once (one more is answered 503), IDLE_TIMEOUT seconds for
any one read or write, one image drawn at a time (a lock), one image per request; a client
that leaves mid-request is dropped without a word in the terminal.
"""

import io
import ipaddress
import json
import sys
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from urllib.parse import parse_qs, urlparse

import torch

from gankit.errors import GankitError
from gankit.explore.latent import INTERPOLATIONS, seed_z
from gankit.generator import Generator, check_psi, load, truncate
from gankit.viz import grid_image
from gankit.video import gif_bytes

SCALE = 8  # a 28x28 digit is drawn 224x224, nearest-neighbour, so pixels stay pixels


def _number(query: dict, key: str, kind, default):
    text = query.get(key, [None])[0]
    if text in (None, ""):
        return default
    try:
        return kind(text)
    except ValueError:
        raise GankitError(f"{key}={text!r} is not a {'whole ' if kind is int else ''}number") from None


class Explorer:
    """A generator and what the page may ask of it; `image` is thread-safe."""

    def __init__(self, g: Generator):
        self.g = g
        self.lock = threading.Lock()

    def info(self) -> dict:
        return {"name": self.g.name, "z_dim": self.g.z_dim, "classes": self.g.class_names,
                "shape": list(self.g.data_shape)}

    def image(self, query: dict) -> bytes:
        seed = _number(query, "seed", int, 0)
        seed_b = _number(query, "seed_b", int, seed)
        t = _number(query, "t", float, 0.0)
        psi = check_psi(query.get("psi", ["inf"])[0] or "inf")
        method = query.get("method", ["slerp"])[0]
        if method not in INTERPOLATIONS:
            raise GankitError(f"method={method!r}: method must be one of {', '.join(INTERPOLATIONS)}")
        if not 0 <= t <= 1:  # also refuses nan
            raise GankitError(f"t={t:g} is outside [0, 1]: t runs from 0 (seed A) to 1 (seed B)")
        y = None
        if self.g.n_classes:
            y = torch.tensor([self.g.class_index(query.get("class", ["0"])[0], "class")])
        za, zb = (truncate(seed_z(self.g.z_dim, s), psi) for s in (seed, seed_b))
        z = INTERPOLATIONS[method](za, zb, t)[None]                   # (1, z_dim)
        with self.lock:
            x = self.g.render(z, y)
        if self.g.is_video:  # one clip, as an animated GIF (the page's <img> plays it)
            return gif_bytes(x)
        buf = io.BytesIO()
        grid_image(x, nrow=1, scale=SCALE, padding=0).save(buf, format="PNG")
        return buf.getvalue()


IDLE_TIMEOUT = 30.0  # seconds any one read or write on a connection may wait
MAX_WORKERS = 32     # connections handled at once; one more is answered 503 at once
BUSY = (b"HTTP/1.0 503 Service Unavailable\r\nContent-Type: text/plain\r\nRetry-After: 1\r\n"
        b"Content-Length: 33\r\nConnection: close\r\n\r\nbusy: too many requests at once\r\n")


# A client that went away mid-request: reset, broken pipe, or silent past the timeout.
GONE = (ConnectionError, TimeoutError)


class BoundedServer(ThreadingHTTPServer):
    """A thread per connection, but at most `max_workers` of them: an idle or slow client
    ties up one slot for at most the handler's timeout, and a flood beyond the slots gets
    503 Busy instead of a thread each."""

    daemon_threads = True

    def __init__(self, address, handler, max_workers: int = MAX_WORKERS):
        self.slots = threading.BoundedSemaphore(max_workers)
        super().__init__(address, handler)

    def process_request(self, request, client_address):
        if not self.slots.acquire(blocking=False):
            try:
                request.sendall(BUSY)
            except OSError:
                pass
            self.shutdown_request(request)
            return
        try:
            super().process_request(request, client_address)  # starts the thread
        except BaseException:
            self.slots.release()
            raise

    def process_request_thread(self, request, client_address):
        try:
            super().process_request_thread(request, client_address)
        finally:
            self.slots.release()

    def handle_error(self, request, client_address):
        # A client that left (closed tab, superseded image, timed out) is routine, not a
        # fault of the server: no traceback for it. Anything else is a bug and is printed.
        if not isinstance(sys.exc_info()[1], GONE):
            super().handle_error(request, client_address)


def make_server(explorer: Explorer, host: str = "127.0.0.1", port: int = 0,
                idle_timeout: float = IDLE_TIMEOUT,
                max_workers: int = MAX_WORKERS) -> ThreadingHTTPServer:
    page = resources.files("gankit").joinpath("explore", "page.html").read_bytes()

    class Handler(BaseHTTPRequestHandler):
        timeout = idle_timeout  # socket timeout: a silent connection is closed after it

        def handle(self):
            try:
                super().handle()
            except GONE:  # the client left: nothing to answer, and nothing to report
                self.close_connection = True

        def _send(self, status, body: bytes, kind: str):
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self):
            url = urlparse(self.path)
            query = parse_qs(url.query)
            try:
                if url.path in ("/", "/index.html"):
                    self._send(HTTPStatus.OK, page, "text/html; charset=utf-8")
                elif url.path == "/info":
                    self._send(HTTPStatus.OK, json.dumps(explorer.info()).encode(), "application/json")
                elif url.path == "/image.png":
                    self._send(HTTPStatus.OK, explorer.image(query),
                               "image/gif" if explorer.g.is_video else "image/png")
                else:
                    self._send(HTTPStatus.NOT_FOUND, b"not found", "text/plain")
            except GankitError as e:
                self._send(HTTPStatus.BAD_REQUEST, str(e).encode(), "text/plain; charset=utf-8")

        def log_message(self, *args):  # one line per image would drown the terminal
            pass

    return BoundedServer((host, port), Handler, max_workers)


def is_loopback(host: str) -> bool:
    try:
        return host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:  # a host name: it may resolve to anything
        return False


def serve(source: str | None, pretrained: str | None, host: str = "127.0.0.1", port: int = 8000):
    g = load(source, pretrained)
    g.require_images("gankit serve")
    try:
        server = make_server(Explorer(g), host, port)
    except OSError as e:
        raise GankitError(f"cannot listen on {host}:{port} ({e.strerror}): pick another --port, "
                          "or --port 0 for a free one") from None
    print(f"serving {pretrained or source} at http://{host}:{server.server_address[1]}/ "
          "(Ctrl-C stops)", flush=True)
    if not is_loopback(host):
        print(f"note: --host {host} listens beyond this machine: anyone who can reach it can "
              "use the page (there is no password, and no HTTPS)", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        print("stopped")
    finally:
        server.server_close()
