"""gankit serve: the image endpoint, and the page end to end in headless Chromium."""
import json
import os
import re
import signal
import subprocess
import sys
import threading
import urllib.error
import urllib.request

from pathlib import Path

import pytest

import gankit
from gankit import cli
from gankit.explore.server import Explorer, make_server
from gankit.generator import load

from test_explore import tiny_snapshot

PIXELS = """async () => {
  const img = document.getElementById("out");
  await img.decode();
  const c = document.createElement("canvas");
  c.width = img.naturalWidth; c.height = img.naturalHeight;
  c.getContext("2d").drawImage(img, 0, 0);
  return c.toDataURL();
}"""


def start(tmp_path, n_classes):
    _, folder = tiny_snapshot(tmp_path / "g", n_classes, ["cat", "dog", "owl"][:n_classes])
    g = load(folder)
    g.name = "tiny"
    srv = make_server(Explorer(g), port=0)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv, f"http://127.0.0.1:{srv.server_address[1]}"


@pytest.fixture
def server(tmp_path):
    """A conditional tiny G (classes cat, dog, owl) served on a free port, in a thread."""
    srv, url = start(tmp_path, 3)
    yield url
    srv.shutdown()
    srv.server_close()


def get(url):
    with urllib.request.urlopen(url) as r:
        return r.status, r.headers["Content-Type"], r.read()


def test_info_and_image_endpoints(server):
    status, kind, body = get(server + "/info")
    assert json.loads(body) == {"name": "tiny", "z_dim": 8, "classes": ["cat", "dog", "owl"],
                                "shape": [1, 28, 28]}
    _, kind, png = get(server + "/image.png?seed=3&class=owl&psi=0.5&seed_b=4&t=0.3")
    assert kind == "image/png" and png[:8] == b"\x89PNG\r\n\x1a\n"
    # at t=1 the interpolation is seed B's image; psi truncates (keeping z's norm)
    assert get(server + "/image.png?seed=3&seed_b=4&t=1")[2] == get(server + "/image.png?seed=4")[2]
    assert get(server + "/image.png?seed=3&psi=0")[2] != get(server + "/image.png?seed=3")[2]
    assert get(server + "/image.png?seed=3")[2] != get(server + "/image.png?seed=9")[2]


@pytest.mark.parametrize("query, message", [
    ("class=7", "class 7: not a class"), ("psi=-1", "psi must be a number >= 0"),
    ("seed=x", "seed='x' is not a whole number"), ("t=2", "t=2 is outside [0, 1]"), ("t=nan", "t=nan is outside [0, 1]"),
    ("seed=18446744073709551616", "seeds are whole numbers from 0 to 2**63 - 1"),
    ("method=cubic", "method must be one of lerp, slerp"),
])
def test_bad_query_is_a_400_with_one_line(server, query, message):
    with pytest.raises(urllib.error.HTTPError) as e:
        get(server + "/image.png?" + query)
    assert e.value.code == 400
    text = e.value.read().decode()
    assert message in text and "\n" not in text
    # each answer names only the value that is wrong
    assert ("method" in text) == query.startswith("method=")
    assert ("t=" in text) == query.startswith("t=")


def test_serve_command_serves_until_interrupted(tmp_path):
    _, folder = tiny_snapshot(tmp_path / "g", 0, None)
    env = {**os.environ, "PYTHONPATH": str(Path(gankit.__file__).parents[1])}
    # A shell's background jobs start with SIGINT ignored, and Python then never raises
    # KeyboardInterrupt: give the server the default handling, as in a terminal.
    proc = subprocess.Popen([sys.executable, "-m", "gankit", "serve", str(folder), "--port", "0"],
                            stdout=subprocess.PIPE, text=True, env=env,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        line = proc.stdout.readline()
        url = re.search(r"http://\S+/", line).group(0)
        assert json.loads(get(url + "info")[2])["classes"] == []
        assert get(url + "image.png?seed=2")[2][:4] == b"\x89PNG"
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=30) == 0
        assert proc.stdout.read().strip() == "stopped"
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_serve_refuses_a_bad_checkpoint(tmp_path, capsys):
    assert cli.main(["serve", str(tmp_path / "nope"), "--port", "0"]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_page_redraws_when_controls_move(chromium, server):
    page = chromium.new_page()
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(server + "/")
    page.wait_for_function("document.getElementById('out').dataset.query !== undefined")
    assert page.locator("#class option").all_text_contents() == ["0: cat", "1: dog", "2: owl"]
    first = page.evaluate(PIXELS)

    def drawn_after(action, expect_in_query):
        action()
        page.wait_for_function(f"(document.getElementById('out').dataset.query || '')"
                               f".includes({expect_in_query!r})")
        loaded = page.evaluate("document.getElementById('out').naturalWidth")
        assert loaded == 224, "the new image did not load"
        return page.evaluate(PIXELS)

    seed5 = drawn_after(lambda: page.fill("#seed", "5"), "seed=5&")
    assert seed5 != first
    owl = drawn_after(lambda: page.select_option("#class", "2"), "class=2")
    assert owl != seed5
    # interpolation: t = 1 with seed B 5 draws seed 5's image again, from seed A 0
    page.fill("#seed", "0")
    page.fill("#seed_b", "5")
    at_b = drawn_after(lambda: page.fill("#t", "1"), "seed=0&seed_b=5&t=1")
    at_5 = drawn_after(lambda: (page.fill("#t", "0"), page.fill("#seed", "5")), "seed=5&seed_b=5&t=0")
    assert at_b == at_5
    # truncation at psi = 0 redraws seed 5 (truncated on its own sphere), and seeds still differ
    page.check("#truncate")
    trunc = drawn_after(lambda: page.fill("#psi", "0"), "psi=0&")
    assert trunc != at_5
    assert drawn_after(lambda: page.fill("#seed", "1"), "seed=1&") != trunc
    assert errors == [] and page.text_content("#status").startswith("seed=1")
    page.close()


def test_page_of_an_unconditional_generator_has_no_class_control(chromium, tmp_path):
    srv, url = start(tmp_path, 0)
    try:
        page = chromium.new_page()
        page.goto(url + "/")
        page.wait_for_function("document.getElementById('out').naturalWidth === 224")
        assert not page.is_visible("#class") and "class=" not in page.get_attribute("#out", "data-query")
        page.close()
    finally:
        srv.shutdown()
        srv.server_close()


def test_an_idle_connection_is_closed_and_work_beyond_the_slots_is_refused(tmp_path):
    """A client that connects and says nothing holds its slot only until the idle timeout;
    while every slot is held, a request is answered 503 at once instead of queueing a thread."""
    import socket
    import time

    _, folder = tiny_snapshot(tmp_path / "g", 0, [])
    srv = make_server(Explorer(load(folder)), port=0, idle_timeout=0.5, max_workers=1)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{srv.server_address[1]}/info"
    try:
        idle = socket.create_connection(srv.server_address, timeout=10)
        time.sleep(0.1)  # the server has accepted it: its one slot is taken
        with pytest.raises(urllib.error.HTTPError) as e:
            get(url)
        assert e.value.code == 503 and b"busy" in e.value.read()
        start = time.monotonic()
        assert idle.recv(100) == b""  # closed by the server, not by us
        assert time.monotonic() - start < 5
        idle.close()
        time.sleep(0.1)
        assert get(url)[0] == 200  # the slot is free again
    finally:
        srv.shutdown()
        srv.server_close()


class BigAnswers(Explorer):
    """An explorer whose every image is 8 MB: far more than the sockets' buffers hold, so the
    server is still writing when the client goes away."""

    def image(self, query):
        return b"\0" * (8 << 20)


@pytest.mark.parametrize("when", ["mid-answer", "before-answer"])
def test_a_client_that_disconnects_mid_request_leaves_no_traceback(tmp_path, capfd, when):
    import socket
    import struct
    import time

    _, folder = tiny_snapshot(tmp_path / "g", 0, [])
    # one slot: the next request is served only once the broken one's thread has finished
    # (and would have printed its traceback)
    srv = make_server(BigAnswers(load(folder)), port=0, max_workers=1)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{srv.server_address[1]}"

    def get_when_free(path):
        for _ in range(200):
            try:
                return get(url + path)
            except urllib.error.HTTPError as e:
                assert e.code == 503
                time.sleep(0.05)
        raise AssertionError("the broken connection's slot was never freed")

    try:
        capfd.readouterr()
        client = socket.socket()
        client.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        client.connect(srv.server_address)
        client.sendall(b"GET /image.png?seed=1 HTTP/1.1\r\nHost: x\r\n\r\n")
        if when == "mid-answer":
            assert client.recv(100).startswith(b"HTTP/1.0 200")  # the answer has begun
        # close with a reset (linger 0), as a browser tab closed mid-download does
        client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        client.close()
        # the server still answers others, and its terminal stays clean
        assert get_when_free("/info")[0] == 200
        assert get_when_free("/image.png")[0] == 200
        err = capfd.readouterr().err
        assert "Traceback" not in err and "Error" not in err, err
    finally:
        srv.shutdown()
        srv.server_close()


SHARED = "seed=5&seed_b=7&t=0.25&method=lerp&psi=0.5&class=2"


def test_a_shared_link_is_the_page_and_its_query_is_the_images(server):
    """The page's URL is `/?source=NAME&` + the image's own query: the server answers the page
    at any query, and the same query (source aside) draws the view's image."""
    status, kind, page = get(server + "/?source=tiny&" + SHARED)
    assert status == 200 and kind.startswith("text/html") and b"history.replaceState" in page
    assert get(server + "/image.png?source=tiny&" + SHARED)[2] == get(server + "/image.png?" + SHARED)[2]


def test_the_pages_state_lives_in_its_url(chromium, server):
    page = chromium.new_page()
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    # a link restores every control, and the view drawn is that link's image
    page.goto(server + "/?source=tiny&" + SHARED)
    page.wait_for_function("(document.getElementById('out').dataset.query || '') !== ''")
    assert [page.input_value(f"#{id}") for id in ("seed", "seed_b", "t", "method", "psi", "class")] \
        == ["5", "7", "0.25", "lerp", "0.5", "2"]
    assert page.is_checked("#truncate") and page.is_hidden("#note")
    shown = page.evaluate(PIXELS)
    entries = page.evaluate("history.length")
    # moving a control rewrites the URL (replaceState: no new history entry)
    page.fill("#seed", "9")
    page.wait_for_function("location.search.includes('seed=9&')")
    url = page.url
    assert "source=tiny" in url and "class=2" in url and "psi=0.5" in url
    assert page.evaluate("history.length") == entries
    # ... and opening that URL in a new tab gives the same view
    again = chromium.new_page()
    again.goto(url)
    again.wait_for_function("(document.getElementById('out').dataset.query || '').includes('seed=9&')")
    assert again.input_value("#seed") == "9" and again.evaluate(PIXELS) == page.evaluate(PIXELS)
    assert again.evaluate(PIXELS) != shown
    # a link the page cannot show says so in one note, and draws what it can
    again.goto(server + "/?source=other&seed=3&class=9&method=cubic")
    again.wait_for_function("(document.getElementById('out').dataset.query || '').includes('seed=3&')")
    note = again.text_content("#note")
    assert "made for other" in note and "class=9" in note and "method=cubic" in note
    assert again.input_value("#method") == "slerp" and "source=tiny" in again.url
    # a class may be given by name
    again.goto(server + "/?class=owl")
    again.wait_for_function("(document.getElementById('out').dataset.query || '').includes('class=2')")
    assert errors == []
    page.close()
    again.close()


def test_only_loopback_hosts_count_as_private():
    from gankit.explore.server import is_loopback

    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.4") and not is_loopback("box")
