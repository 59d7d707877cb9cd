"""`bifrost-plugin serve` driven by the official OpenAI Python client.

Each test class starts `serve` on port 0 with a config of the gallery's
plugins (or of the chain-probe test plugin, which marks every text it sees
with its tag, so the answer shows the order hooks ran in) and reads the port
from its `listening on http://HOST:PORT` line. The mock provider answers
with the last user message's text, usage counted in words.

Run by `make test` (`make test-python`): needs `make setup` (.venv with
`openai`), `make examples build-test-plugins`, and the binary
(BIFROST_PLUGIN, default target/debug/bifrost-plugin).
"""

import json
import os
import subprocess
import tempfile
import threading
import time
import unittest
import urllib.error
import urllib.request
from http.client import HTTPConnection
from pathlib import Path
from urllib.parse import urlsplit

import openai

ROOT = Path(__file__).resolve().parents[3]
BINARY = os.environ.get("BIFROST_PLUGIN", str(ROOT / "target" / "debug" / "bifrost-plugin"))


def build(file):
    path = ROOT / "build" / file
    if not path.exists():
        raise FileNotFoundError(f"{path}: run `make examples build-test-plugins` first")
    return str(path)


def gallery(name, config):
    return {"path": build(f"examples/{name}-single-input.wasm"), "name": name, "config": config}


def probe(tag, **placed):
    entry = {"path": build("test/chain-probe-single-input.wasm"), "name": f"probe-{tag}",
             "config": {"tag": tag, "skip": "drop"}}
    entry.update(placed)
    return entry


class Serve:
    """A running `serve`: its base URL and its stderr lines."""

    def __init__(self, plugins):
        self.folder = tempfile.TemporaryDirectory()
        config = Path(self.folder.name) / "config.json"
        config.write_text(json.dumps({"plugins": plugins}))
        self.process = subprocess.Popen(
            [BINARY, "serve", "--config", str(config), "--listen", "127.0.0.1:0"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.lines = []
        threading.Thread(target=self._collect, daemon=True).start()
        first = self.process.stdout.readline().strip()
        if not first.startswith("listening on "):
            self.process.wait()
            time.sleep(0.1)
            raise RuntimeError(f"serve did not start: {first!r}\n" + "\n".join(self.lines))
        self.base = first.removeprefix("listening on ")

    def _collect(self):
        for line in self.process.stderr:
            self.lines.append(line.rstrip("\n"))

    def client(self, **options):
        return openai.OpenAI(base_url=f"{self.base}/v1", api_key="sk-test", max_retries=0, **options)

    def wait_for_line(self, needle, seconds=20):
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            for line in list(self.lines):
                if needle in line:
                    return line
            time.sleep(0.02)
        raise AssertionError(f"no line with {needle!r} in:\n" + "\n".join(self.lines))

    def stop(self):
        self.process.terminate()
        code = self.process.wait(timeout=20)
        self.folder.cleanup()
        return code


def user(text):
    return [{"role": "user", "content": text}]


class GalleryChain(unittest.TestCase):
    """model-router, pii-redactor and content-guardrail in front of the mock."""

    @classmethod
    def setUpClass(cls):
        cls.serve = Serve([
            gallery("model-router", {"routes": {"gpt-4": "gpt-4o-mini"}, "system_prompt": "Be brief."}),
            gallery("pii-redactor", {}),
            gallery("content-guardrail", {"blocked_phrases": ["forbidden"], "message": "blocked here"}),
        ])
        cls.client = cls.serve.client()

    @classmethod
    def tearDownClass(cls):
        cls.serve.stop()

    def test_chat(self):
        reply = self.client.chat.completions.create(model="gpt-4", messages=user("write to a@b.com today"))
        self.assertEqual(reply.choices[0].message.content, "write to [redacted] today")
        self.assertEqual(reply.model, "gpt-4o-mini")
        # "Be brief." (the router's system prompt) and the 4 words; the reply's 4.
        self.assertEqual((reply.usage.prompt_tokens, reply.usage.completion_tokens, reply.usage.total_tokens),
                         (6, 4, 10))

    def test_chat_with_n_2(self):
        reply = self.client.chat.completions.create(model="openai/gpt-4o-mini", messages=user("two of these"), n=2)
        self.assertEqual([c.message.content for c in reply.choices], ["two of these", "two of these"])
        self.assertEqual([c.index for c in reply.choices], [0, 1])
        self.assertEqual(reply.usage.completion_tokens, 6)

    def test_streaming_with_usage(self):
        stream = self.client.chat.completions.create(
            model="gpt-4o", messages=user("call 555-123-4567 now please"), stream=True,
            stream_options={"include_usage": True})
        chunks = list(stream)
        words = [c.choices[0].delta.content for c in chunks if c.choices and c.choices[0].delta.content]
        self.assertEqual(words, ["call ", "[redacted] ", "now ", "please"])
        self.assertEqual([c.choices[0].finish_reason for c in chunks if c.choices][-1], "stop")
        self.assertEqual(chunks[-1].choices, [])
        self.assertEqual(chunks[-1].usage.completion_tokens, 4)

    def test_text_completion(self):
        reply = self.client.completions.create(model="gpt-4o-mini", prompt="once upon a time")
        self.assertEqual(reply.choices[0].text, "once upon a time")
        self.assertEqual(reply.usage.prompt_tokens, 4)

    def test_embeddings(self):
        reply = self.client.embeddings.create(model="text-embedding-3-small", input=["alpha", "beta"])
        self.assertEqual([len(d.embedding) for d in reply.data], [8, 8])
        self.assertNotEqual(reply.data[0].embedding, reply.data[1].embedding)
        again = self.client.embeddings.create(model="text-embedding-3-small", input="alpha")
        self.assertEqual(again.data[0].embedding, reply.data[0].embedding)

    def test_responses(self):
        reply = self.client.responses.create(model="gpt-4o-mini", input="mail x@y.org please")
        self.assertEqual(reply.output_text, "mail [redacted] please")
        self.assertEqual(reply.usage.output_tokens, 3)

    def test_responses_streaming(self):
        events = list(self.client.responses.create(model="gpt-4o-mini", input="mail x@y.org now please",
                                                   stream=True))
        self.assertEqual(events[0].type, "response.created")
        self.assertEqual(events[-1].type, "response.completed")
        deltas = [e.delta for e in events if e.type == "response.output_text.delta"]
        self.assertEqual(deltas, ["mail ", "[redacted] ", "now ", "please"])
        self.assertEqual([e.sequence_number for e in events], list(range(len(events))))
        self.assertEqual(events[-1].response.output_text, "mail [redacted] now please")
        self.assertEqual(events[-1].response.usage.output_tokens, 4)

    def test_responses_stream_helper_rebuilds_the_response(self):
        with self.client.responses.stream(model="gpt-4o-mini", input="three little words") as stream:
            texts = [e.delta for e in stream if e.type == "response.output_text.delta"]
            final = stream.get_final_response()
        self.assertEqual(texts, ["three ", "little ", "words"])
        self.assertEqual(final.output_text, "three little words")
        self.assertEqual((final.usage.input_tokens, final.usage.output_tokens), (3, 3))

    def test_models(self):
        self.assertEqual([m.id for m in self.client.models.list()], ["openai/mock"])

    def test_a_short_circuit_is_an_api_error_with_its_status(self):
        with self.assertRaises(openai.PermissionDeniedError) as caught:
            self.client.chat.completions.create(model="m", messages=user("something forbidden"))
        self.assertEqual(caught.exception.status_code, 403)
        self.assertEqual(caught.exception.body["message"], "blocked here")
        self.assertEqual(caught.exception.body["type"], "content_blocked")

    def test_the_drop_in_path(self):
        client = openai.OpenAI(base_url=f"{self.serve.base}/openai/v1", api_key="k", max_retries=0)
        reply = client.chat.completions.create(model="m", messages=user("same here"))
        self.assertEqual(reply.choices[0].message.content, "same here")

    def status_of(self, body, content_type):
        request = urllib.request.Request(f"{self.serve.base}/v1/chat/completions", data=body,
                                         headers={"content-type": content_type})
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                return response.status
        except urllib.error.HTTPError as error:
            return error.code

    def test_bad_inputs_get_errors_and_serve_goes_on(self):
        self.assertEqual(self.status_of(b'{"model":', "application/json"), 400)
        self.assertEqual(self.status_of(b"hi", "text/plain"), 415)
        try:
            self.assertEqual(self.status_of(b" " * (64 << 20), "application/json"), 413)
        except (urllib.error.URLError, ConnectionError):
            pass  # the server may close the connection before the client reads its 413
        # A client that goes away after the first line of a stream.
        address = urlsplit(self.serve.base)
        connection = HTTPConnection(address.hostname, address.port, timeout=20)
        body = json.dumps({"model": "m", "messages": user("a b c d"), "stream": True})
        connection.request("POST", "/v1/chat/completions", body, {"content-type": "application/json"})
        connection.getresponse().readline()
        connection.close()
        reply = self.client.chat.completions.create(model="m", messages=user("still alive"))
        self.assertEqual(reply.choices[0].message.content, "still alive")


class Probes(unittest.TestCase):
    """chain-probe plugins: order, placement, reverse post hooks, context."""

    @classmethod
    def setUpClass(cls):
        cls.serve = Serve([probe("A"), probe("B", placement="pre_builtin"), probe("C", order=-1),
                           {"path": build("test/panicking.wasm"), "name": "panicky"}])
        cls.client = cls.serve.client()

    @classmethod
    def tearDownClass(cls):
        cls.serve.stop()

    def test_order_placement_reverse_post_and_context(self):
        reply = self.client.chat.completions.create(model="m", messages=user("hi"))
        # Pre hooks B (pre_builtin), C (order -1), A, then panicky (it sets the
        # model); post hooks in reverse, each seeing the chain in the context.
        self.assertEqual(reply.choices[0].message.content, "hi >B >C >A <A[B,C,A] <C[B,C,A] <B[B,C,A]")

    def test_a_trapping_plugin_is_passed_through(self):
        reply = self.client.chat.completions.create(model="panic", messages=user("hi"))
        self.assertEqual(reply.choices[0].message.content, "hi >B >C >A <A[B,C,A] <C[B,C,A] <B[B,C,A]")
        self.serve.wait_for_line("[panicky] pre_hook trapped")


class HttpAnswers(unittest.TestCase):
    """api-key-guard answers at the HTTP layer; token-budget short-circuits."""

    @classmethod
    def setUpClass(cls):
        cls.serve = Serve([gallery("api-key-guard", {"keys": ["k1"]}),
                           gallery("token-budget", {"max_total_tokens": 5})])

    @classmethod
    def tearDownClass(cls):
        cls.serve.stop()

    def test_the_http_pre_hook_answer_and_a_429(self):
        with self.assertRaises(openai.AuthenticationError) as caught:
            self.serve.client().chat.completions.create(model="m", messages=user("hi"))
        self.assertEqual(caught.exception.status_code, 401)
        client = self.serve.client(default_headers={"x-api-key": "k1"})
        reply = client.chat.completions.create(model="m", messages=user("three words here"))
        self.assertEqual(reply.usage.total_tokens, 6)
        with self.assertRaises(openai.RateLimitError) as caught:
            client.chat.completions.create(model="m", messages=user("more"))
        self.assertEqual(caught.exception.body["type"], "budget_exceeded")

    def test_the_http_hooks_guard_the_model_list_not_health(self):
        with self.assertRaises(openai.AuthenticationError):
            self.serve.client().models.list()
        client = self.serve.client(default_headers={"x-api-key": "k1"})
        self.assertEqual([m.id for m in client.models.list()], ["openai/mock"])
        with urllib.request.urlopen(f"{self.serve.base}/health", timeout=20) as response:
            self.assertEqual(response.status, 200)


if __name__ == "__main__":
    unittest.main()
