"""The browser fixture itself: a page served on localhost renders and runs its script."""
import http.server
import threading


def test_chromium_runs_a_local_page(chromium, tmp_path):
    (tmp_path / "index.html").write_text(
        "<html><body><p id=out>before</p>"
        "<script>document.getElementById('out').textContent = 'after'</script></body></html>")

    class Handler(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, directory=str(tmp_path), **kwargs)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        page = chromium.new_page()
        page.goto(f"http://127.0.0.1:{server.server_address[1]}/index.html")
        assert page.text_content("#out") == "after"
        page.close()
    finally:
        server.shutdown()
