"""The daemon worker pool: tasks run in order on up to N threads, and neither a shutdown
nor the interpreter's exit waits for a task that hangs longer than it is willing to."""

from __future__ import annotations

import subprocess
import sys
import threading
import time

import pytest

from bot.daemon_pool import DaemonPool

pytestmark = pytest.mark.timeout(60)


def test_tasks_run_on_at_most_n_threads_and_hand_back_results_and_errors() -> None:
    pool = DaemonPool(2, "test")
    started, release = threading.Semaphore(0), threading.Event()
    names: list[str] = []

    def task(n: int) -> int:
        names.append(threading.current_thread().name)
        started.release()
        assert release.wait(timeout=10)
        return n * 2

    futures = [pool.submit(task, n) for n in range(4)]
    assert started.acquire(timeout=10)
    assert started.acquire(timeout=10)  # two at once: the pool does not run them one by one
    release.set()
    assert [f.result(timeout=10) for f in futures] == [0, 2, 4, 6]
    assert set(names) <= {"test-0", "test-1"}  # never more than two threads
    failed = pool.submit(lambda: 1 / 0)
    assert isinstance(failed.exception(timeout=10), ZeroDivisionError)
    pool.shutdown(wait=True, timeout=10)
    assert not pool.busy()
    with pytest.raises(RuntimeError):
        pool.submit(task, 5)


def test_a_shutdown_waits_for_a_hanging_task_no_longer_than_its_timeout() -> None:
    pool = DaemonPool(1, "test")
    hang, running = threading.Event(), threading.Event()
    pool.submit(lambda: (running.set(), hang.wait(timeout=30)))
    assert running.wait(timeout=10)
    began = time.monotonic()
    pool.shutdown(wait=True, timeout=0.5)
    assert 0.5 <= time.monotonic() - began < 2
    assert pool.busy()
    hang.set()


def test_a_hanging_task_does_not_hold_the_interpreters_exit() -> None:
    # A real interpreter: concurrent.futures' pool would keep it alive for the task's 60 s.
    program = (
        "import threading, time\n"
        "from bot.daemon_pool import DaemonPool\n"
        "pool = DaemonPool(1, 'hang')\n"
        "running = threading.Event()\n"
        "pool.submit(lambda: (running.set(), time.sleep(60)))\n"
        "assert running.wait(10)\n"
        "pool.shutdown(wait=True, timeout=0.1)\n"
    )
    began = time.monotonic()
    done = subprocess.run([sys.executable, "-c", program], timeout=30, check=False)
    assert done.returncode == 0
    assert time.monotonic() - began < 10


def test_a_shutdown_that_cancels_drops_the_queued_tasks_and_lets_the_running_one_finish() -> None:
    pool = DaemonPool(1, "test")
    started, release = threading.Event(), threading.Event()

    def running() -> str:
        started.set()
        assert release.wait(timeout=10)
        return "done"

    first = pool.submit(running)
    queued = [pool.submit(lambda: "never") for _ in range(3)]
    assert started.wait(timeout=10)
    pool.shutdown(wait=False, cancel_futures=True)
    release.set()
    assert first.result(timeout=10) == "done"
    assert all(future.cancelled() for future in queued)
    pool.shutdown(wait=True, timeout=10)
    assert not pool.busy()
