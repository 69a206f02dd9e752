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
    ("seed=x", "seed='x' is not a whole number"), ("t=2", "t in [0, 1]"),
    ("seed=18446744073709551616", "seeds are whole numbers from 0 to 2**63 - 1"),
    ("method=cubic", "method must be one of lerp, slerp"),
])
def test_bad_query_is_a_400_with_one_line(server, query, message):
    with pytest.raises(urllib.error.HTTPError) as e:
        get(server + "/image.png?" + query)
    assert e.value.code == 400
    text = e.value.read().decode()
    assert message in text and "\n" not in text


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
