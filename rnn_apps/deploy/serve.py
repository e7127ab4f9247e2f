"""``rnn-apps serve``: a saved recipe model behind an HTTP JSON API, batching concurrent requests.

    rnn-apps serve sentiment --model runs/sentiment/models/lstm.keras --port 8000
    curl -s localhost:8000/predict -d '{"inputs": ["a great little camera"]}'

Routes:

- ``POST /predict`` with ``{"inputs": [...]}`` answers
  ``{"predictions": [...]}``: one dict per input, the dicts of
  `rnn-apps predict --format json`. An input is a text for ``sentiment``,
  ``text_analysis`` and ``translation``; a price window for ``stocks`` (a
  list of prices, a list of per-step lists for several series, or the
  ``"p1,p2,..."`` string `rnn-apps predict` takes). ``speech`` and ``video``
  read files named by path, which a server does not take from the network:
  they are refused at start.
- ``GET /health`` answers the recipe, the model's path, ``ready`` and the
  batching counters.

The model loads once, before the server listens; a model that cannot be
loaded stops the command with exit status 2 and one line. Requests that
arrive together are answered by one model call (`rnn_apps.deploy.batching`).
Every refused request gets a 4xx status and ``{"error": "Expected ...
Received: ..."}``; a bad input never costs the other requests of its batch
their answers.
"""

import argparse
import contextlib
import json
import pathlib
import socket
import sys
from collections.abc import Callable, Sequence

from rnn_apps import errors
from rnn_apps.deploy import batching
from rnn_apps.harness import config as config_module

INPUT_KINDS = {"sentiment": "text", "text_analysis": "text", "translation": "text", "stocks": "prices"}
"""What one raw input is over HTTP, per recipe that can be served."""

MAX_BODY_BYTES = 1_048_576
MAX_INPUTS = 256


class RequestError(errors.InputError):
    """A refused request, with the HTTP status that answers it."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.status = status


def read_inputs(body: bytes, kind: str, max_inputs: int = MAX_INPUTS) -> list:
    """The raw inputs of one ``POST /predict`` body, checked for shape and JSON types.

    The recipe's predictor checks what the values mean (a text with words,
    a window of the model's length); this checks only what JSON can get
    wrong.

    Args:
        body: the request body.
        kind: ``"text"`` (each input a string) or ``"prices"`` (each a
            string or a list).
        max_inputs: the most inputs one request may hold.

    Raises:
        RequestError: status 400 for a body that is not ``{"inputs": [...]}``
            of the right types or holds no input, 413 for too many inputs.

    Examples:
        >>> read_inputs(b'{"inputs": ["good", "bad"]}', "text")
        ['good', 'bad']
        >>> read_inputs(b'{"inputs": [[1.5, 2.0]]}', "prices")
        [[1.5, 2.0]]
        >>> try:
        ...     read_inputs(b'{"inputs": "good"}', "text")
        ... except RequestError as error:
        ...     print(error.status, error)
        400 Expected inputs to be a list, each item a string. Received: inputs='good'
    """
    try:
        content = json.loads(body)
    except ValueError as error:  # also bytes that are not UTF-8
        message = f'Expected a JSON body such as {{"inputs": [...]}}. Received: {_clip(body)} ({error})'
        raise RequestError(message) from None
    if not isinstance(content, dict) or set(content) != {"inputs"}:
        keys = sorted(content) if isinstance(content, dict) else type(content).__name__
        raise RequestError(f"Expected a JSON object with the one key 'inputs'. Received: {_clip(keys)}")
    inputs = content["inputs"]
    one = "a string" if kind == "text" else "a price window (a list of prices, or a string)"
    if not isinstance(inputs, list):
        raise RequestError(str(errors.expected(f"a list, each item {one}", _clip(inputs), name="inputs")))
    if not inputs:
        raise RequestError(str(errors.expected("a list of at least one input", [], name="inputs")))
    if len(inputs) > max_inputs:
        message = errors.expected(f"at most {max_inputs} inputs per request (--max-inputs)", f"{len(inputs)} inputs")
        raise RequestError(str(message), status=413)
    allowed = (str,) if kind == "text" else (str, list)
    for index, value in enumerate(inputs):
        if not isinstance(value, allowed):
            raise RequestError(str(errors.expected(one, _Shown(_clip(value)), name=f"inputs[{index}]")))
    return inputs


def _clip(value, limit: int = 80) -> str:
    """``value`` as a short one-line text for a message."""
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    text = value if isinstance(value, str) else repr(value)
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


class _Shown(str):
    """A clipped value that a message shows as it is, without quotes."""

    def __repr__(self) -> str:
        return str(self)


def _plain(value):
    """NumPy scalars and arrays as JSON values."""
    if hasattr(value, "tolist"):
        return value.tolist()
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def create_app(
    predictor: Callable[[Sequence], list[dict]],
    recipe: str,
    model_path: str | pathlib.Path,
    max_batch: int = 32,
    max_wait_ms: float = 5.0,
    max_inputs: int = MAX_INPUTS,
    max_body_bytes: int = MAX_BODY_BYTES,
):
    """The FastAPI application that serves ``predictor``.

    The batching worker starts and stops with the application's lifespan
    (uvicorn runs it; in tests, ``TestClient`` as a context manager or
    ``app.router.lifespan_context``).

    Args:
        predictor: a loaded model as `rnn_apps.harness.recipe.Recipe.predictor`
            returns it.
        recipe: the recipe's name (it chooses the input kind, see
            `INPUT_KINDS`).
        model_path: the model's file, reported by ``/health``.
        max_batch: the most inputs in one predictor call.
        max_wait_ms: how long a batch waits for more requests, in milliseconds.
        max_inputs: the most inputs one request may hold.
        max_body_bytes: the largest request body accepted.

    Returns:
        A ``fastapi.FastAPI``; ``app.state.batcher`` is its `batching.Batcher`.
    """
    # Imported here, so the annotations below (read by FastAPI) are real classes; this module has no
    # `from __future__ import annotations` for the same reason.
    import fastapi
    from fastapi import responses
    from starlette import exceptions

    kind = INPUT_KINDS[recipe]
    batcher = batching.Batcher(predictor, max_batch=max_batch, max_wait=max_wait_ms / 1000)

    def answer(content: dict, status: int = 200):
        return responses.Response(json.dumps(content, default=_plain), status, media_type="application/json")

    @contextlib.asynccontextmanager
    async def lifespan(app):
        batcher.start()
        yield
        await batcher.close()

    app = fastapi.FastAPI(
        title=f"rnn-apps serve {recipe}", lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None
    )
    app.state.batcher = batcher

    @app.exception_handler(exceptions.HTTPException)
    async def _route_error(request: fastapi.Request, error: exceptions.HTTPException):
        if error.status_code == 405:
            allowed = "POST" if request.url.path == "/predict" else "GET"
            message = f"Expected {allowed} for {request.url.path}. Received: {request.method}"
        elif error.status_code == 404:
            message = f"Expected one of the routes ['POST /predict', 'GET /health']. Received: {request.method} "
            message += _clip(request.url.path)
        else:
            message = f"Expected a valid request. Received: {error.detail}"
        return answer({"error": message}, error.status_code)

    @app.get("/health")
    async def health():
        stats = batcher.stats
        return answer(
            {
                "recipe": recipe,
                "model": str(model_path),
                "ready": batcher.running,
                "max_batch": batcher.max_batch,
                "max_wait_ms": max_wait_ms,
                "max_inputs": max_inputs,
                "max_body_bytes": max_body_bytes,
                "requests": stats.requests,
                "inputs": stats.inputs,
                "batches": stats.batches,
            }
        )

    @app.post("/predict")
    async def predict(request: fastapi.Request):
        try:
            body = await _read_body(request, max_body_bytes)
            predictions = await batcher.submit(read_inputs(body, kind, max_inputs))
        except RequestError as error:
            return answer({"error": str(error)}, error.status)
        except errors.InputError as error:  # the recipe refused an input (no words, a window of another length)
            return answer({"error": str(error)}, 400)
        except Exception as error:  # noqa: BLE001 - a fault of the server, not the request: still one JSON line
            print(f"rnn-apps serve: predictor failed: {type(error).__name__}: {error}", file=sys.stderr)
            return answer({"error": f"the model failed on this batch ({type(error).__name__})"}, 500)
        return answer({"predictions": predictions})

    return app


async def _read_body(request, limit: int) -> bytes:
    """The request body, refused (413) as soon as it is known to pass ``limit`` bytes."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise RequestError(
            f"Expected a body of at most {limit} bytes (--max-body-bytes). Received: {declared} bytes", 413
        )
    parts, size = [], 0
    async for chunk in request.stream():  # a chunked body declares no length: count as it comes
        size += len(chunk)
        if size > limit:
            raise RequestError(f"Expected a body of at most {limit} bytes (--max-body-bytes). Received: more", 413)
        parts.append(chunk)
    return b"".join(parts)


def parser() -> argparse.ArgumentParser:
    """Parser of ``rnn-apps serve``."""
    cli = config_module.ArgumentParser(
        prog="rnn-apps serve",
        description='Serve a saved model over HTTP: POST /predict with {"inputs": [...]} answers '
        '{"predictions": [...]}; GET /health. Concurrent requests are answered in batches.',
        epilog=f"Recipes served: {sorted(INPUT_KINDS)} (speech and video read files, which a server does not take "
        "from the network). --max-batch 1 calls the model once per request (no batching).",
    )
    cli.add_argument("recipe", help="the recipe that saved the model")
    cli.add_argument("--model", required=True, help="path of a saved .keras model")
    cli.add_argument("--host", default="127.0.0.1", help="address to listen on (default: loopback only)")
    cli.add_argument("--port", type=config_module.non_negative_int, default=8000, help="0 picks a free port")
    cli.add_argument(
        "--max-batch", type=config_module.positive_int, default=32, help="most inputs in one model call (default 32)"
    )
    cli.add_argument(
        "--max-wait-ms",
        type=_non_negative_float,
        default=5.0,
        help="how long a batch waits for more requests after its first (default 5)",
    )
    cli.add_argument(
        "--max-inputs",
        type=config_module.positive_int,
        default=MAX_INPUTS,
        help=f"most inputs in one request (default {MAX_INPUTS})",
    )
    cli.add_argument(
        "--max-body-bytes",
        type=config_module.positive_int,
        default=MAX_BODY_BYTES,
        help=f"largest request body in bytes (default {MAX_BODY_BYTES})",
    )
    cli.add_argument(
        "--log-level", choices=("warning", "info", "debug"), default="warning", help="info also logs each request"
    )
    return cli


def _non_negative_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not value >= 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"expected a non-negative number, received {text!r}")
    return value


def bind(host: str, port: int) -> socket.socket:
    """A socket bound to ``host:port`` (port 0: a free one), for uvicorn to listen on.

    Raises:
        rnn_apps.errors.InputError: the address is unknown or the port taken.
    """
    try:
        family, kind, protocol, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    except socket.gaierror as error:
        raise errors.expected("an address of this machine", f"{host} ({error.strerror})", name="--host") from None
    sock = socket.socket(family, kind, protocol)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(address)
    except OSError as error:
        sock.close()
        raise errors.expected(
            "a free port on this address", f"{host}:{port} ({error.strerror})", name="--port"
        ) from None
    return sock


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``rnn-apps serve`` (``argv``: the words after ``serve``) until Ctrl-C.

    Raises:
        rnn_apps.errors.InputError: a recipe that cannot be served, a model
            that cannot be loaded, an address that cannot be bound.
    """
    from rnn_apps.harness import cli

    args = parser().parse_args(list(sys.argv[1:] if argv is None else argv))
    if args.recipe not in INPUT_KINDS:
        served = f"a recipe that can be served: one of {sorted(INPUT_KINDS)}"
        if args.recipe in cli.registry.names():
            served += " (speech and video read files by path, which a server does not take from the network)"
        raise errors.expected(served, args.recipe)
    try:
        import fastapi  # noqa: F401 - only checked here; create_app uses it
        import uvicorn
    except ImportError as error:
        raise errors.expected("the server libraries: pip install 'rnn-apps[serve]'", f"{error}") from None
    try:
        recipe, path = cli._recipe_and_model(args)
        predictor = recipe.predictor(path)  # loads the model now: a bad file stops here, before any port is taken
        with contextlib.suppress(errors.InputError):
            # One call before the first request, so no client waits while the backend traces the model; the
            # recipe's examples may not fit every model (a stocks window of another length), which is fine here.
            predictor(recipe.examples()[:1])
    except KeyboardInterrupt:
        return cli.INTERRUPTED  # Ctrl-C before the server started
    sock = bind(args.host, args.port)
    app = create_app(
        predictor, recipe.name, path, args.max_batch, args.max_wait_ms, args.max_inputs, args.max_body_bytes
    )
    host, port = sock.getsockname()[:2]
    host = f"[{host}]" if ":" in host else host
    print(f"rnn-apps serve: {recipe.name} model {path} on http://{host}:{port} (Ctrl-C stops)", flush=True)
    server = uvicorn.Server(uvicorn.Config(app, log_level=args.log_level, access_log=args.log_level != "warning"))
    try:
        server.run(sockets=[sock])
    except KeyboardInterrupt:  # uvicorn shuts down cleanly, then raises the signal it caught again
        pass
    finally:
        sock.close()
    return 0
