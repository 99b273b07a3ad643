"""ProgbarLogger and RemoteMonitor (Keras 3 callbacks): output, HTTP payloads on a local server,
unreachable server, argument checks."""

from __future__ import annotations

import contextlib
import io
import json
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, HTTPServer

import numpy as np
import pytest

import deepnet as dn


def _model():
    model = dn.Sequential([dn.layers.Input((3,)), dn.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    return model


def _data():
    rng = np.random.default_rng(0)
    return rng.normal(size=(8, 3)).astype("float32"), rng.normal(size=(8, 1)).astype("float32")


def test_progbar_logger_prints_each_epoch_and_evaluate():
    x, y = _data()
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        _model().fit(x, y, batch_size=4, epochs=2, verbose=2, callbacks=[dn.callbacks.ProgbarLogger()])
    text = out.getvalue()
    assert "Epoch 1/2" in text and "Epoch 2/2" in text
    assert text.count("2/2 - ") >= 2 and "loss:" in text
    silent = io.StringIO()
    with contextlib.redirect_stdout(silent):
        _model().evaluate(x, y, batch_size=4, verbose=0, callbacks=[dn.callbacks.ProgbarLogger()])
    assert silent.getvalue() == ""  # verbose=0: the bar is silent, as Keras'


class _Recorder(BaseHTTPRequestHandler):
    received: list = []

    def do_POST(self):  # noqa: N802 - http.server's name
        body = self.rfile.read(int(self.headers["Content-Length"])).decode()
        type(self).received.append((self.path, self.headers["Content-Type"], body))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    _Recorder.received = []
    httpd = HTTPServer(("127.0.0.1", 0), _Recorder)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


@pytest.mark.parametrize("as_json", [True, False])
def test_remote_monitor_posts_logs(server, as_json):
    x, y = _data()
    cb = dn.callbacks.RemoteMonitor(root=server, path="/log/", send_as_json=as_json, headers={"X-Run": "a"})
    _model().fit(x, y, batch_size=4, epochs=2, verbose=0, callbacks=[cb])
    assert len(_Recorder.received) == 2
    path, content_type, body = _Recorder.received[1]
    assert path == "/log/"
    if as_json:
        assert content_type == "application/json"
        payload = json.loads(body)
    else:
        payload = json.loads(urllib.parse.parse_qs(body)["data"][0])
    assert payload["epoch"] == 1 and isinstance(payload["loss"], float)


def test_remote_monitor_unreachable_warns():
    cb = dn.callbacks.RemoteMonitor(root="http://127.0.0.1:9", timeout=2.0)
    with pytest.warns(UserWarning, match="Could not reach RemoteMonitor"):
        cb.on_epoch_end(0, {"loss": np.float32(1.0)})


@pytest.mark.parametrize(("kwargs", "match"), [({"headers": {"a": 1}}, "headers"), ({"root": 5}, "root"),
                                               ({"timeout": 0}, "timeout")])
def test_remote_monitor_bad_arguments(kwargs, match):
    with pytest.raises((TypeError, ValueError), match=match):
        dn.callbacks.RemoteMonitor(**kwargs)
