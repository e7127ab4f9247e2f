"""`rnn-apps serve`: the HTTP API in process, its batching, its refusals and its limits.

The server runs in this process (`fastapi.testclient.TestClient`, or httpx
on the ASGI app for concurrent requests) around a small untrained GRU
sentiment model saved the way the recipe saves it, so no test trains.
"""

import asyncio
import json
import types

import httpx
import keras
import pytest
from test_bad_input import tiny_models

from recipes import sentiment, stocks
from rnn_apps import errors
from rnn_apps.data import text
from rnn_apps.deploy import batching, serve
from rnn_apps.harness import cli

TEXTS = [
    "a great little camera",
    "the battery died after a day",
    "sharp and easy to use",
    "support was useless",
    "good",
    "bad value for the money",
]


@pytest.fixture(scope="module")
def gru_model(tmp_path_factory):
    """A GRU sentiment model with random weights, saved by the recipe's own export hook."""
    keras.utils.set_random_seed(1)
    cfg = sentiment.RECIPE.parse(["--model", "gru", "--units", "8", "--embedding-dim", "8"])
    vectorizer = text.make_vectorizer(TEXTS, vocabulary_size=50)
    model = sentiment.build_classifier("gru", cfg, vectorizer.vocabulary_size(), 2)
    data = types.SimpleNamespace(
        vectorizer=vectorizer, sequence_length=12, splits=types.SimpleNamespace(class_names=["negative", "positive"])
    )
    path = tmp_path_factory.mktemp("serve") / "gru.keras"
    _, saved = sentiment.RECIPE.export("gru", model, cfg, data, path)
    return saved


class Counting:
    """A predictor that records the size of every batch it is called on."""

    def __init__(self, predictor):
        self.predictor, self.calls = predictor, []

    def __call__(self, inputs):
        self.calls.append(len(inputs))
        return self.predictor(inputs)


@pytest.fixture(scope="module")
def predictor(gru_model):
    return sentiment.RECIPE.predictor(gru_model)


def make_app(predictor, gru_model, **limits):
    return serve.create_app(predictor, "sentiment", gru_model, **limits)


@pytest.fixture
def client(predictor, gru_model):
    from fastapi import testclient

    with testclient.TestClient(make_app(predictor, gru_model, max_inputs=8, max_body_bytes=2000)) as client:
        yield client


async def _concurrently(app, bodies):
    """POST every body at once to ``app`` (its lifespan running); the responses, in order."""
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://serve") as client:
            return await asyncio.gather(*(client.post("/predict", json=body) for body in bodies))


def test_predictor_gives_what_predict_gives(gru_model, predictor):
    assert predictor(TEXTS) == sentiment.RECIPE.predict(gru_model, TEXTS)


def test_concurrent_requests_share_model_calls_and_get_their_own_answers(gru_model, predictor):
    counting = Counting(predictor)
    app = make_app(counting, gru_model, max_batch=64, max_wait_ms=200)
    bodies = [{"inputs": [value]} for value in TEXTS] + [{"inputs": TEXTS[:3]}, {"inputs": TEXTS[3:]}]
    responses = asyncio.run(_concurrently(app, bodies))
    assert [response.status_code for response in responses] == [200] * len(bodies)
    for body, response in zip(bodies, responses):
        assert response.json() == {"predictions": sentiment.RECIPE.predict(gru_model, body["inputs"])}
    assert len(counting.calls) < len(bodies)
    assert sum(counting.calls) == 2 * len(TEXTS)
    assert app.state.batcher.stats.requests == len(bodies)


def test_max_batch_one_calls_the_model_once_per_request(gru_model, predictor):
    counting = Counting(predictor)
    app = make_app(counting, gru_model, max_batch=1, max_wait_ms=0)
    bodies = [{"inputs": [value]} for value in TEXTS[:4]] + [{"inputs": TEXTS[:2]}]
    responses = asyncio.run(_concurrently(app, bodies))
    assert [response.status_code for response in responses] == [200] * 5
    assert sorted(counting.calls) == [1, 1, 1, 1, 2]  # a request larger than a batch is called on whole


def test_a_bad_input_fails_its_own_request_only(gru_model, predictor):
    counting = Counting(predictor)
    app = make_app(counting, gru_model, max_batch=64, max_wait_ms=200)
    bodies = [{"inputs": ["good"]}, {"inputs": ["bad", "!!!"]}, {"inputs": ["sharp and easy to use"]}]
    good, bad, other = asyncio.run(_concurrently(app, bodies))
    assert good.json()["predictions"] == sentiment.RECIPE.predict(gru_model, ["good"])
    assert other.json()["predictions"] == sentiment.RECIPE.predict(gru_model, ["sharp and easy to use"])
    assert bad.status_code == 400
    assert bad.json()["error"].startswith("Expected a text with at least one word (the model drops punctuation).")
    assert app.state.batcher.stats.retries == 1


def test_health_names_the_model_and_counts_requests(client, gru_model):
    health = client.get("/health").json()
    assert (health["recipe"], health["model"], health["ready"]) == ("sentiment", str(gru_model), True)
    client.post("/predict", json={"inputs": ["good", "bad"]})
    health = client.get("/health").json()
    assert (health["requests"], health["inputs"], health["batches"]) == (1, 2, 1)


def test_predict_answers_as_the_command_line_does(client, gru_model, capsys):
    response = client.post("/predict", json={"inputs": TEXTS[:2]})
    assert response.status_code == 200 and response.headers["content-type"] == "application/json"
    cli.main(["predict", "sentiment", "--model", str(gru_model), "--format", "json", *TEXTS[:2]])
    printed = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert response.json() == {"predictions": printed}


@pytest.mark.parametrize(
    "body, status, message",
    [
        (b"{not json", 400, 'Expected a JSON body such as {"inputs": [...]}. Received: {not json'),
        (b"\xff\xfe", 400, 'Expected a JSON body such as {"inputs": [...]}. Received:'),
        (b"", 400, 'Expected a JSON body such as {"inputs": [...]}. Received:'),
        (b'["good"]', 400, "Expected a JSON object with the one key 'inputs'. Received: list"),
        (b'{"input": ["good"]}', 400, "Expected a JSON object with the one key 'inputs'. Received: ['input']"),
        (b'{"inputs": "good"}', 400, "Expected inputs to be a list, each item a string. Received: inputs='good'"),
        (b'{"inputs": []}', 400, "Expected inputs to be a list of at least one input. Received: inputs=[]"),
        (b'{"inputs": ["good", 3]}', 400, "Expected inputs[1] to be a string. Received: inputs[1]=3"),
        (b'{"inputs": [null]}', 400, "Expected inputs[0] to be a string. Received: inputs[0]=None"),
        (b'{"inputs": ["   "]}', 400, "Expected a text with at least one word. Received: '   '"),
        (b'{"inputs": ["' + b'a", "' * 8 + b'a"]}', 413, "Expected at most 8 inputs per request (--max-inputs)."),
        (b'{"inputs": ["' + b"a" * 3000 + b'"]}', 413, "Expected a body of at most 2000 bytes (--max-body-bytes)."),
    ],
)
def test_bad_requests_get_a_4xx_and_one_line_of_json(client, body, status, message):
    response = client.post("/predict", content=body)
    assert response.status_code == status
    error = response.json()["error"]
    assert error.startswith(message) and "Received:" in error and "\n" not in error


def test_a_chunked_body_over_the_limit_is_refused_as_it_comes(client):
    chunks = (b'{"inputs": ["' + b"a" * 500 for _ in range(5))  # no content-length: sent chunked
    response = client.post("/predict", content=chunks)
    assert response.status_code == 413
    assert response.json()["error"].startswith("Expected a body of at most 2000 bytes")


@pytest.mark.parametrize(
    "method, path, status, message",
    [
        ("GET", "/nowhere", 404, "Expected one of the routes ['POST /predict', 'GET /health']. Received: GET /nowhere"),
        ("GET", "/predict", 405, "Expected POST for /predict. Received: GET"),
        ("POST", "/health", 405, "Expected GET for /health. Received: POST"),
        ("GET", "/docs", 404, "Expected one of the routes"),
    ],
)
def test_unknown_routes_and_methods_get_json_errors(client, method, path, status, message):
    response = client.request(method, path)
    assert response.status_code == status
    assert response.json()["error"].startswith(message)


def test_stocks_takes_windows_as_lists_or_strings(tmp_path):
    from fastapi import testclient

    path = tiny_models(tmp_path, ["window"])["window"]
    windows = [[100.0, 101.0, 102.5, 101.0, 103.0], "100,99,98,99,100"]
    app = serve.create_app(stocks.RECIPE.predictor(path), "stocks", path)
    with testclient.TestClient(app) as client:
        response = client.post("/predict", json={"inputs": windows})
        assert response.json() == {"predictions": stocks.RECIPE.predict(path, windows)}
        refused = client.post("/predict", json={"inputs": [[1.0, 2.0]]})
        assert refused.status_code == 400 and refused.json()["error"].startswith("Expected 5 prices per window")
        refused = client.post("/predict", json={"inputs": [{"price": 1}]})
        assert refused.status_code == 400 and "a price window" in refused.json()["error"]


def test_a_predictor_fault_is_a_500_with_one_line(gru_model):
    from fastapi import testclient

    def broken(inputs):
        raise RuntimeError("out of memory")

    with testclient.TestClient(make_app(broken, gru_model)) as client:
        response = client.post("/predict", json={"inputs": ["good"]})
    assert response.status_code == 500
    assert response.json() == {"error": "the model failed on this batch (RuntimeError)"}


@pytest.mark.parametrize(
    "argv, message",
    [
        (["speech", "--model", "m.keras"], "Expected a recipe that can be served: one of ['sentiment', 'stocks', "),
        (["gates", "--model", "m.keras"], "Expected a recipe that can be served"),
        (["sentiment", "--model", "missing.keras"], "Expected --model to be an existing .keras model file."),
    ],
)
def test_serve_refuses_at_start_with_exit_2(argv, message, capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["serve", *argv])
    assert exit_info.value.code == 2
    line = capsys.readouterr().err.strip()
    assert message in line and "\n" not in line


def test_a_model_of_another_recipe_fails_at_start(tmp_path, capsys):
    path = tiny_models(tmp_path, ["window"])["window"]
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["serve", "sentiment", "--model", str(path)])
    assert exit_info.value.code == 2
    assert "Expected a .keras model saved by this recipe" in capsys.readouterr().err


def test_a_taken_port_is_refused_with_one_line():
    taken = serve.bind("127.0.0.1", 0)
    taken.listen()
    try:
        with pytest.raises(errors.InputError, match="Expected --port to be a free port on this address"):
            serve.bind("127.0.0.1", taken.getsockname()[1])
    finally:
        taken.close()


def test_batcher_holds_over_a_request_that_does_not_fit():
    calls = []

    def echo(batch):
        calls.append(list(batch))
        return batch

    async def main():
        batcher = batching.Batcher(echo, max_batch=3, max_wait=0.2)
        batcher.start()
        answers = await asyncio.gather(*(batcher.submit(values) for values in ([1, 2], [3, 4], [5])))
        await batcher.close()
        return answers

    assert asyncio.run(main()) == [[1, 2], [3, 4], [5]]
    assert calls == [[1, 2], [3, 4, 5]]


@pytest.mark.slow
def test_the_command_serves_until_ctrl_c(gru_model):
    """``rnn-apps serve`` in a process of its own: it answers on the port it names, and Ctrl-C ends it with 0."""
    import signal
    import subprocess
    import sys

    command = [sys.executable, "-m", "rnn_apps.harness.cli", "serve", "sentiment", "--model", str(gru_model)]
    process = subprocess.Popen([*command, "--port", "0"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        url = process.stdout.readline().split(" on ", 1)[1].split()[0]
        response = httpx.post(f"{url}/predict", json={"inputs": TEXTS[:2]}, timeout=60)
        assert response.json() == {"predictions": sentiment.RECIPE.predict(gru_model, TEXTS[:2])}
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=60) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


@pytest.mark.slow
def test_load_benchmark_in_a_tiny_configuration(gru_model, tmp_path):
    """bench/serve_load.py with 2 clients for 1 s: both servers answer, and the table holds both rows."""
    import pathlib
    import subprocess
    import sys

    repo = pathlib.Path(__file__).resolve().parent.parent
    command = [sys.executable, "bench/serve_load.py", "--recipes", "sentiment", "--model", f"sentiment={gru_model}"]
    command += ["--clients", "2", "--seconds", "1", "--warmup", "0.5", "--results-dir", str(tmp_path)]
    subprocess.run(command, cwd=repo, check=True, capture_output=True, text=True, timeout=300)
    result = json.loads((tmp_path / "serve_load.json").read_text())
    assert [row["mode"] for row in result["rows"]] == ["batched", "naive"]
    for row in result["rows"]:
        assert row["errors"] == 0 and row["requests"] > 0 and row["server_requests"] >= row["requests"]
        assert row["p50_ms"] <= row["p99_ms"] and row["rss_start_mib"] > 0
    assert result["rows"][1]["inputs_per_call"] == 1.0  # --max-batch 1: one model call per request
    assert "| sentiment | naive |" in (tmp_path / "serve_load.md").read_text()
