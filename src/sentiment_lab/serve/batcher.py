"""Micro-batching: many concurrent one-text requests become one forward pass.

A recurrent network scores 64 sentences in a fraction of the time of 64 separate calls
(one padded matrix product per step instead of 64), so under load the server gathers the
requests that arrive within a few milliseconds (up to `max_batch`) and runs them together.
The forward pass runs on ONE worker thread, off the event loop: the loop keeps accepting
and parsing requests while the model works, and those requests form the next batch. At low
load a batch is a single request and the only cost is the short gathering wait.

    batcher = MicroBatcher(engine.predict, max_batch=64, max_wait_ms=2)
    await batcher.start()
    result = await batcher.submit("What a film")   # one text in, one result out
    await batcher.stop()
"""
from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Callable, Generic, Sequence, TypeVar

T = TypeVar("T")
R = TypeVar("R")


class Overloaded(RuntimeError):
    """The queue is full: the caller should answer 503 and let the client retry."""


@dataclass
class BatchStats:
    batches: int = 0
    items: int = 0
    largest: int = 0
    sizes: dict[int, int] = field(default_factory=dict)  # batch size -> how many batches had it

    def add(self, n: int) -> None:
        self.batches += 1
        self.items += n
        self.largest = max(self.largest, n)
        self.sizes[n] = self.sizes.get(n, 0) + 1

    def to_dict(self) -> dict[str, Any]:
        mean = self.items / self.batches if self.batches else 0.0
        return {"batches": self.batches, "items": self.items, "largest_batch": self.largest,
                "mean_batch": round(mean, 2)}


class MicroBatcher(Generic[T, R]):
    """Gathers single items for up to `max_wait_ms` (or `max_batch` items) and calls
    `fn(list_of_items) -> list_of_results` once for them on the worker thread."""

    def __init__(self, fn: Callable[[list[T]], Sequence[R]], *, max_batch: int = 64, max_wait_ms: float = 2.0,
                 max_queue: int = 4096, executor: ThreadPoolExecutor | None = None) -> None:
        if max_batch < 1:
            raise ValueError(f"max_batch must be >= 1, got {max_batch}")
        if max_wait_ms < 0:
            raise ValueError(f"max_wait_ms must be >= 0, got {max_wait_ms}")
        self.fn = fn
        self.max_batch = max_batch
        self.max_wait = max_wait_ms / 1000
        self.max_queue = max_queue
        self.stats = BatchStats()
        self._own_executor = executor is None
        self.executor = executor or ThreadPoolExecutor(max_workers=1, thread_name_prefix="predict")
        self._queue: asyncio.Queue[tuple[T, asyncio.Future[R]]] | None = None
        self._task: asyncio.Task[None] | None = None

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    async def start(self) -> None:
        self._queue = asyncio.Queue()
        self._task = asyncio.create_task(self._run(), name="micro-batcher")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
        while self._queue is not None and not self._queue.empty():  # nobody will serve these now
            _, fut = self._queue.get_nowait()
            if not fut.done():
                fut.set_exception(Overloaded("the server is shutting down"))
        if self._own_executor:
            self.executor.shutdown(wait=True)

    async def submit(self, item: T) -> R:
        if not self.running or self._queue is None:
            raise Overloaded("the model is not running")
        if self._queue.qsize() >= self.max_queue:
            raise Overloaded(f"{self.max_queue} requests are already waiting")
        fut: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        self._queue.put_nowait((item, fut))
        return await fut

    async def run(self, fn: Callable[..., Any], *args: Any) -> Any:
        """Run other model work (a list request, a file) on the same worker thread, so it
        takes turns with the batches instead of competing with them for the cores."""
        return await asyncio.get_running_loop().run_in_executor(self.executor, fn, *args)

    async def _gather(self) -> list[tuple[T, asyncio.Future[R]]]:
        assert self._queue is not None
        batch = [await self._queue.get()]
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.max_wait
        while len(batch) < self.max_batch:
            if not self._queue.empty():  # what queued up during the last forward pass: no waiting
                batch.append(self._queue.get_nowait())
                continue
            timeout = deadline - loop.time()
            if timeout <= 0:
                break
            try:
                batch.append(await asyncio.wait_for(self._queue.get(), timeout))
            except TimeoutError:
                break
        return batch

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            batch = [(x, f) for x, f in await self._gather() if not f.done()]  # done = client went away
            if not batch:
                continue
            try:
                results = await loop.run_in_executor(self.executor, self.fn, [x for x, _ in batch])
            except asyncio.CancelledError:
                for _, f in batch:
                    if not f.done():
                        f.set_exception(Overloaded("the server is shutting down"))
                raise
            except Exception as exc:
                if len(batch) == 1:
                    if not batch[0][1].done():
                        batch[0][1].set_exception(exc)
                    continue
                # one bad item must not fail the other clients' requests that share its batch:
                # run each alone, so the failure reaches only the request that caused it
                for x, f in batch:
                    try:
                        r = (await loop.run_in_executor(self.executor, self.fn, [x]))[0]
                    except Exception as one:
                        if not f.done():
                            f.set_exception(one)
                    else:
                        self.stats.add(1)
                        if not f.done():
                            f.set_result(r)
                continue
            self.stats.add(len(batch))
            for (_, f), r in zip(batch, results):
                if not f.done():
                    f.set_result(r)
