"""The micro-batcher on its own: gathering, batch-size cap, errors, shutdown, overload."""
from __future__ import annotations

import asyncio
import threading
import time

import pytest

from sentiment_lab.serve.batcher import MicroBatcher, Overloaded


class Recorder:
    """A batch function that records the batches it saw and the thread it ran on."""

    def __init__(self, fail_on: str | None = None, delay: float = 0.0) -> None:
        self.batches: list[list[str]] = []
        self.threads: set[int] = set()
        self.fail_on = fail_on
        self.delay = delay

    def __call__(self, items: list[str]) -> list[str]:
        self.batches.append(list(items))
        self.threads.add(threading.get_ident())
        time.sleep(self.delay)
        if self.fail_on in items:
            raise ValueError(f"cannot score {self.fail_on!r}")
        return [s.upper() for s in items]


def run(coro):
    return asyncio.run(coro)


def test_concurrent_items_share_one_call_in_order_and_off_the_loop():
    fn = Recorder()

    async def main():
        b = MicroBatcher(fn, max_batch=64, max_wait_ms=50)
        await b.start()
        out = await asyncio.gather(*(b.submit(f"t{i}") for i in range(10)))
        await b.stop()
        return out, b.stats.to_dict(), threading.get_ident()

    out, stats, loop_thread = run(main())
    assert out == [f"T{i}" for i in range(10)]  # each caller gets its own result
    assert fn.batches == [[f"t{i}" for i in range(10)]]
    assert stats == {"batches": 1, "items": 10, "largest_batch": 10, "mean_batch": 10.0}
    assert loop_thread not in fn.threads and len(fn.threads) == 1


def test_max_batch_caps_a_forward_pass():
    fn = Recorder()

    async def main():
        b = MicroBatcher(fn, max_batch=4, max_wait_ms=20)
        await b.start()
        await asyncio.gather(*(b.submit(str(i)) for i in range(10)))
        await b.stop()

    run(main())
    assert [len(x) for x in fn.batches] == [4, 4, 2]


def test_a_lone_request_waits_only_max_wait():
    fn = Recorder()

    async def main():
        b = MicroBatcher(fn, max_batch=64, max_wait_ms=5)
        await b.start()
        t0 = time.perf_counter()
        await b.submit("alone")
        dt = time.perf_counter() - t0
        await b.stop()
        return dt

    assert run(main()) < 1.0  # 5 ms of gathering plus scheduling, even on a busy machine
    assert fn.batches == [["alone"]]


def test_requests_arriving_during_a_forward_pass_form_the_next_batch():
    fn = Recorder(delay=0.2)

    async def main():
        b = MicroBatcher(fn, max_batch=64, max_wait_ms=0)
        await b.start()
        first = asyncio.create_task(b.submit("first"))
        await asyncio.sleep(0.05)  # "first" is now being scored
        rest = await asyncio.gather(*(b.submit(f"r{i}") for i in range(5)))
        await first
        await b.stop()
        return rest

    assert run(main()) == [f"R{i}" for i in range(5)]
    assert fn.batches == [["first"], [f"r{i}" for i in range(5)]]


def test_an_error_reaches_only_the_request_that_caused_it_and_the_batcher_goes_on():
    """A batch that fails is rerun item by item: other clients sharing the batch with a bad
    text still get their answers (the API's lone-surrogate text once failed its neighbours)."""
    fn = Recorder(fail_on="bad")

    async def main():
        b = MicroBatcher(fn, max_batch=64, max_wait_ms=30)
        await b.start()
        results = await asyncio.gather(b.submit("ok"), b.submit("bad"), b.submit("fine"), return_exceptions=True)
        later = await b.submit("later")
        await b.stop()
        return results, later

    results, later = run(main())
    assert results[0] == "OK" and isinstance(results[1], ValueError) and results[2] == "FINE"
    assert fn.batches[:4] == [["ok", "bad", "fine"], ["ok"], ["bad"], ["fine"]]
    assert later == "LATER"


def test_overload_and_shutdown_are_refused_cleanly():
    fn = Recorder(delay=0.2)

    async def main():
        b = MicroBatcher(fn, max_batch=1, max_wait_ms=0, max_queue=2)
        with pytest.raises(Overloaded, match="not running"):
            await b.submit("before start")
        await b.start()
        busy = asyncio.create_task(b.submit("busy"))
        await asyncio.sleep(0.05)
        queued = [asyncio.create_task(b.submit(f"q{i}")) for i in range(2)]
        await asyncio.sleep(0)
        with pytest.raises(Overloaded, match="2 requests are already waiting"):
            await b.submit("one too many")
        await b.stop()  # the running batch is refused, queued ones too
        results = await asyncio.gather(busy, *queued, return_exceptions=True)
        assert all(isinstance(r, Overloaded) for r in results), results
        with pytest.raises(Overloaded):
            await b.submit("after stop")

    run(main())


def test_bad_settings_are_refused():
    with pytest.raises(ValueError, match="max_batch"):
        MicroBatcher(str, max_batch=0)
    with pytest.raises(ValueError, match="max_wait_ms"):
        MicroBatcher(str, max_wait_ms=-1)
