"""The OpenAI-compatible engine against a tiny HTTP server on 127.0.0.1 (in a thread):
choice probabilities from top_logprobs, generation, 429 retry, a server without logprobs,
a down engine, and bounded concurrency."""

from __future__ import annotations

import json
import math
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

pytest.importorskip("httpx")

from qurate.errors import ConfigError, EngineError  # noqa: E402
from qurate.llm import EngineConfig, GenParams, load_engine  # noqa: E402


class FakeServer:
    """Answers like vLLM: top_logprobs favour "4"; can be told to 429 or drop logprobs."""

    def __init__(self) -> None:
        self.fail_next = 0
        self.logprobs = True
        self.requests: list[dict] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self.lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *a):  # quiet
                pass

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with outer.lock:
                    outer.requests.append(body)
                    outer.in_flight += 1
                    outer.max_in_flight = max(outer.max_in_flight, outer.in_flight)
                    fail = outer.fail_next > 0
                    outer.fail_next -= fail
                time.sleep(0.02)
                with outer.lock:
                    outer.in_flight -= 1
                if fail:
                    return self._send(429, {"error": "rate limited"})
                if body.get("max_tokens") == 1:
                    top = [
                        {"token": "4", "logprob": math.log(0.6)},
                        {"token": " 2", "logprob": math.log(0.2)},
                        {"token": "Hello", "logprob": math.log(0.1)},
                    ]
                    choice = {"message": {"content": "4"}, "finish_reason": "length"}
                    if outer.logprobs:
                        choice["logprobs"] = {
                            "content": [
                                {"token": "4", "logprob": math.log(0.6), "top_logprobs": top}
                            ]
                        }
                    return self._send(200, {"choices": [choice], "usage": {"prompt_tokens": 7}})
                n = body.get("n", 1)
                if "messages" in body:
                    choices = [
                        {"message": {"content": f"reply {i}"}, "finish_reason": "stop"}
                        for i in range(n)
                    ]
                else:
                    choices = [{"text": f"text {i}", "finish_reason": "length"} for i in range(n)]
                return self._send(
                    200,
                    {"choices": choices, "usage": {"prompt_tokens": 3, "completion_tokens": 2 * n}},
                )

            def _send(self, code, obj):
                data = json.dumps(obj).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture()
def server():
    s = FakeServer()
    yield s
    s.close()


def _engine(url: str, **kw) -> object:
    return load_engine(
        EngineConfig(kind="openai", model="judge", base_url=url, backoff_s=0.01, **kw)
    )


CHAT = [{"role": "user", "content": "Rate the document."}]


def test_choice_probs_from_top_logprobs(server):
    (r,) = _engine(server.url).choice_probs([CHAT], list("012345"))
    assert r.probs["4"] == pytest.approx(0.75) and r.probs["2"] == pytest.approx(0.25)
    assert r.mass == pytest.approx(0.8) and r.expected() == pytest.approx(3.5)
    req = server.requests[-1]
    assert req["logprobs"] is True and req["top_logprobs"] == 20 and req["max_tokens"] == 1


def test_generate_chat_and_completions(server):
    gens = _engine(server.url).generate(
        [CHAT, "Once upon"], GenParams(n=2, max_tokens=8, temperature=0.7)
    )
    assert gens[0].texts == ["reply 0", "reply 1"] and gens[0].finish_reasons == ["stop", "stop"]
    assert gens[1].texts == ["text 0", "text 1"] and gens[1].finish_reasons == ["length", "length"]
    assert {"messages", "prompt"} == {
        k for r in server.requests for k in ("messages", "prompt") if k in r
    }


def test_429_is_retried_with_backoff(server):
    server.fail_next = 2
    (r,) = _engine(server.url).choice_probs([CHAT], list("012345"))
    assert r.error is None and len(server.requests) == 3


def test_retries_exhausted_marks_the_prompt_failed_not_the_run(server):
    server.fail_next = 100
    (g,) = _engine(server.url, max_retries=1).generate([CHAT], GenParams())
    assert g.error and "429" in g.error


def test_a_server_without_logprobs_is_a_clear_error(server):
    server.logprobs = False
    with pytest.raises(EngineError, match="no logprobs"):
        _engine(server.url).choice_probs([CHAT], list("012345"))


def test_a_down_engine_is_one_engine_error():
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()  # nothing listens here now
    with pytest.raises(EngineError, match="is down"):
        _engine(f"http://127.0.0.1:{port}/v1", max_retries=1).generate([CHAT], GenParams())


def test_concurrency_is_bounded(server):
    _engine(server.url, max_concurrency=3).generate([CHAT] * 12, GenParams())
    assert len(server.requests) == 12 and server.max_in_flight <= 3


def test_missing_base_url_is_a_config_error():
    with pytest.raises(ConfigError, match="base_url"):
        load_engine(EngineConfig(kind="openai", model="x"))
