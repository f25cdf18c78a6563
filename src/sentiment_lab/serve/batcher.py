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

Lists and files (`run`) use the same worker thread, one chunk per turn, and take turns with
the micro-batches: when both wait, a batch and a chunk alternate, so a one-text request waits
for at most one chunk of someone's file, never for a queue of them (measured before this: 32 s
behind 24 concurrent 256-text requests). The list/file work admitted at once is capped in
characters (`admit`): once `max_queued_chars` are waiting, a request is refused (Overloaded
-> 503 with Retry-After) instead of queueing without bound.
"""
from __future__ import annotations

import asyncio
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Callable, Generic, Iterator, Sequence, TypeVar

T = TypeVar("T")
R = TypeVar("R")


MAX_QUEUED_CHARS = 1_000_000  # list/file text queued before new ones are refused (~2.5 s of model work, 2-core CPU)


class Overloaded(RuntimeError):
    """The queue is full: the caller should answer 503 and let the client retry."""


class Turns:
    """Whose work runs next on the worker thread. Two classes of waiters, "batch" (single
    texts, micro-batched) and "chunk" (a piece of a list or file); when both wait they
    alternate, and within a class they go first come, first served. Event-loop only."""

    def __init__(self) -> None:
        self._busy = False
        self._waiting: dict[bool, deque[asyncio.Future[None]]] = {True: deque(), False: deque()}
        self._last_batch = False

    async def acquire(self, batch: bool) -> None:
        if not self._busy:
            self._busy, self._last_batch = True, batch
            return
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiting[batch].append(fut)
        try:
            await fut
        except asyncio.CancelledError:
            if fut.done() and not fut.cancelled():  # the turn was given, then its caller cancelled
                self.release()
            else:
                self._waiting[batch].remove(fut)
            raise

    def release(self) -> None:
        for cls in (not self._last_batch, self._last_batch):  # the other class first
            queue = self._waiting[cls]
            while queue:
                fut = queue.popleft()
                if not fut.done():
                    fut.set_result(None)
                    self._last_batch = cls
                    return
        self._busy = False

    @contextmanager
    def held(self) -> Iterator[None]:
        try:
            yield
        finally:
            self.release()


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
                 max_queue: int = 4096, max_queued_chars: int | None = None,
                 executor: ThreadPoolExecutor | None = None) -> None:
        if max_batch < 1:
            raise ValueError(f"max_batch must be >= 1, got {max_batch}")
        if max_wait_ms < 0:
            raise ValueError(f"max_wait_ms must be >= 0, got {max_wait_ms}")
        self.fn = fn
        self.max_batch = max_batch
        self.max_wait = max_wait_ms / 1000
        self.max_queue = max_queue
        self.max_queued_chars = MAX_QUEUED_CHARS if max_queued_chars is None else max_queued_chars
        self.queued_chars = 0  # list/file text admitted and not finished
        self.refused = 0  # requests refused as overloaded (503)
        self.turns = Turns()
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
            self.refused += 1
            raise Overloaded(f"{self.max_queue} requests are already waiting")
        fut: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        self._queue.put_nowait((item, fut))
        return await fut

    async def run(self, fn: Callable[..., Any], *args: Any) -> Any:
        """Run other model work (a chunk of a list request or a file) on the same worker
        thread, so it takes turns with the batches instead of competing with them for the
        cores (and waits for its turn: see Turns)."""
        await self.turns.acquire(batch=False)
        with self.turns.held():
            return await asyncio.get_running_loop().run_in_executor(self.executor, fn, *args)

    def full(self) -> bool:
        """No list/file work can be admitted now (checked before an upload is parsed)."""
        return self.queued_chars >= self.max_queued_chars

    @contextmanager
    def admit(self, chars: int) -> Iterator[Callable[[int], None]]:
        """Admit `chars` characters of list/file work while fewer than `max_queued_chars` are
        queued, or raise Overloaded. Yields `done(n)`: n characters are scored (the queue
        shrinks as a file's chunks finish); the rest is released when the block ends. The
        newcomer may take the queue past the cap, so the queue holds at most the cap plus one
        request (2 MB of JSON, or an upload's MAX_UPLOAD_CHARS), and a large file is not
        starved by a stream of smaller lists."""
        if self.full():
            self.refused += 1
            raise Overloaded(f"{self.queued_chars:,} characters of lists and files are already queued "
                             f"(the limit is {self.max_queued_chars:,})")
        held = chars
        self.queued_chars += chars

        def done(n: int) -> None:
            nonlocal held
            n = min(n, held)
            held -= n
            self.queued_chars -= n

        try:
            yield done
        finally:
            self.queued_chars -= held

    async def _gather(self, batch: list[tuple[T, asyncio.Future[R]]]) -> None:
        """Add to `batch` (which holds the first item) what is queued, then what arrives
        within max_wait, up to max_batch."""
        assert self._queue is not None
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

    async def _run(self) -> None:
        assert self._queue is not None
        loop = asyncio.get_running_loop()
        while True:
            batch = [await self._queue.get()]
            try:
                # the turn first, then the gathering: what queued up while a list's chunk ran
                # joins this batch instead of waiting for the next turn
                await self.turns.acquire(batch=True)
                with self.turns.held():
                    await self._gather(batch)
                    live = [(x, f) for x, f in batch if not f.done()]  # done = client went away
                    if live:
                        await self._score(loop, live)
            except asyncio.CancelledError:
                for _, f in batch:
                    if not f.done():
                        f.set_exception(Overloaded("the server is shutting down"))
                raise

    async def _score(self, loop: asyncio.AbstractEventLoop, batch: list[tuple[T, asyncio.Future[R]]]) -> None:
        try:
            results = await loop.run_in_executor(self.executor, self.fn, [x for x, _ in batch])
        except Exception as exc:
            if len(batch) == 1:
                if not batch[0][1].done():
                    batch[0][1].set_exception(exc)
                return
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
            return
        self.stats.add(len(batch))
        for (_, f), r in zip(batch, results):
            if not f.done():
                f.set_result(r)
