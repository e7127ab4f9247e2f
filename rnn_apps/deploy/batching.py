"""Dynamic batching: many concurrent requests, one model call per batch.

A recurrent model answers a batch of 32 inputs in little more time than one
input: the cost of a call is mostly fixed (dispatch, the step loop over
time), not per row. A server that calls the model once per request pays that
fixed cost for every request; `Batcher` instead queues requests and hands a
single worker as many as arrive together, up to ``max_batch`` inputs or
``max_wait`` seconds after the first, then splits the answers back.

The model runs on one thread of its own, one batch at a time, so the event
loop keeps accepting requests while a batch is computed, and a model that is
not thread-safe is never entered twice.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import dataclasses
import time
from collections.abc import Callable, Sequence

from rnn_apps import errors


@dataclasses.dataclass
class Stats:
    """What a `Batcher` has done so far.

    Attributes:
        requests: requests answered (with predictions or an error).
        inputs: inputs those requests held.
        batches: predictor calls made for whole batches.
        retries: batches that an input error split into one call per request.
    """

    requests: int = 0
    inputs: int = 0
    batches: int = 0
    retries: int = 0


@dataclasses.dataclass
class _Pending:
    inputs: list
    future: asyncio.Future


class Batcher:
    """Collect concurrent requests into batches for one predictor.

    Args:
        predictor: a batch of raw inputs -> one answer per input (what
            `rnn_apps.harness.recipe.Recipe.predictor` returns); it may raise
            `rnn_apps.errors.InputError` for inputs it refuses.
        max_batch: the most inputs in one predictor call; a request larger
            than this is called on alone, never split.
        max_wait: seconds a batch waits for more requests after its first
            one arrives (0: take only what is already queued).

    Use it inside a running event loop: `start` once, `submit` from any
    number of tasks, `close` at shutdown.

    Examples:
        >>> import asyncio
        >>> calls = []
        >>> def double(batch):
        ...     calls.append(len(batch))
        ...     return [2 * x for x in batch]
        >>> async def main():
        ...     batcher = Batcher(double, max_batch=8, max_wait=0.05)
        ...     batcher.start()
        ...     answers = await asyncio.gather(*(batcher.submit([i, i + 1]) for i in range(3)))
        ...     await batcher.close()
        ...     return answers
        >>> asyncio.run(main()), calls
        ([[0, 2], [2, 4], [4, 6]], [6])
    """

    def __init__(self, predictor: Callable[[Sequence], list], max_batch: int = 32, max_wait: float = 0.005):
        self.predictor = predictor
        self.max_batch = errors.check_positive(max_batch, "max_batch")
        self.max_wait = errors.check_positive(max_wait, "max_wait", allow_zero=True)
        self.stats = Stats()
        self._queue: asyncio.Queue | None = None
        self._worker: asyncio.Task | None = None
        self._held: _Pending | None = None  # taken from the queue, but did not fit the last batch
        self._executor: concurrent.futures.ThreadPoolExecutor | None = None

    @property
    def running(self) -> bool:
        """Whether the worker is started and still taking requests."""
        return self._worker is not None and not self._worker.done()

    def start(self) -> None:
        """Start the worker task on the running event loop."""
        self._queue = asyncio.Queue()
        self._executor = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="predictor")
        self._worker = asyncio.get_running_loop().create_task(self._run(), name="batcher")

    async def close(self) -> None:
        """Stop the worker; requests still waiting are cancelled."""
        if self._worker is not None:
            self._worker.cancel()
            try:
                await self._worker
            except asyncio.CancelledError:
                pass
        waiting = [self._held] if self._held else []
        while self._queue is not None and not self._queue.empty():
            waiting.append(self._queue.get_nowait())
        for item in waiting:
            item.future.cancel()
        self._held = None
        if self._executor is not None:
            self._executor.shutdown(wait=True)

    async def submit(self, inputs: Sequence) -> list:
        """The predictor's answers for ``inputs``, computed in a batch with whatever else is waiting.

        Raises:
            rnn_apps.errors.InputError: the predictor refused one of ``inputs``.
            RuntimeError: `start` was not called.
        """
        if self._queue is None:
            raise RuntimeError("Batcher.start() must run before submit()")
        future = asyncio.get_running_loop().create_future()
        await self._queue.put(_Pending(list(inputs), future))
        return await future

    async def _next_batch(self) -> list[_Pending]:
        """The first waiting request, then more until ``max_batch`` inputs or ``max_wait`` seconds."""
        first = self._held or await self._queue.get()
        self._held = None
        batch, size = [first], len(first.inputs)
        deadline = time.monotonic() + self.max_wait
        while size < self.max_batch:
            remaining = deadline - time.monotonic()
            try:
                if remaining > 0:
                    item = await asyncio.wait_for(self._queue.get(), remaining)
                else:
                    item = self._queue.get_nowait()
            except (asyncio.TimeoutError, asyncio.QueueEmpty):
                break
            if size + len(item.inputs) > self.max_batch:
                self._held = item
                break
            batch.append(item)
            size += len(item.inputs)
        return batch

    async def _call(self, inputs: list) -> list:
        return await asyncio.get_running_loop().run_in_executor(self._executor, self.predictor, inputs)

    async def _run(self) -> None:
        while True:
            batch = [item for item in await self._next_batch() if not item.future.cancelled()]
            if not batch:
                continue
            inputs = [value for item in batch for value in item.inputs]
            self.stats.batches += 1
            try:
                answers = await self._call(inputs)
            except errors.InputError as error:
                if len(batch) == 1:
                    _settle(batch[0], error=error)
                else:
                    # One request's bad input must not fail the others: each is called on alone.
                    self.stats.retries += 1
                    for item in batch:
                        try:
                            _settle(item, answers=await self._call(item.inputs))
                        except Exception as error:  # noqa: BLE001 - handed to the request that caused it
                            _settle(item, error=error)
                self._count(batch)
                continue
            except Exception as error:  # noqa: BLE001 - a predictor failure answers every waiting request
                for item in batch:
                    _settle(item, error=error)
                self._count(batch)
                continue
            start = 0
            for item in batch:
                _settle(item, answers=answers[start : start + len(item.inputs)])
                start += len(item.inputs)
            self._count(batch)

    def _count(self, batch: list[_Pending]) -> None:
        self.stats.requests += len(batch)
        self.stats.inputs += sum(len(item.inputs) for item in batch)


def _settle(item: _Pending, answers=None, error: BaseException | None = None) -> None:
    if item.future.done():  # its client went away while the batch ran
        return
    if error is not None:
        item.future.set_exception(error)
    else:
        item.future.set_result(answers)
