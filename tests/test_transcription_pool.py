"""A transcription worker process dying breaks its whole pool, and with it every job
waiting there (salon.transcription.jobs): each is run once more on a fresh pool, and a
job learning late of the broken pool does not close the fresh one."""

from concurrent.futures import Executor, Future
from concurrent.futures.process import BrokenProcessPool
from datetime import UTC, datetime
from pathlib import Path

import pytest

from salon.transcription.jobs import JobSettings, PostMeetingJobs
from salon.transcription.worker import TranscriptionFailed, WorkRequest, WorkResult


class Pool(Executor):
    """Answers every job with `answer` (a result, or an exception it raises)."""

    def __init__(self, answer: object) -> None:
        self.answer = answer
        self.closed = False

    def submit(self, fn, /, *args, **kwargs) -> Future:
        future: Future = Future()
        if isinstance(self.answer, BaseException):
            future.set_exception(self.answer)
        else:
            future.set_result(self.answer)
        return future

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        self.closed = True


def _jobs(tmp_path: Path, *pools: Pool) -> PostMeetingJobs:
    jobs = PostMeetingJobs(None, JobSettings(data_dir=tmp_path), None)  # type: ignore[arg-type]
    queue = list(pools)

    def executor() -> Pool:
        if jobs._pool is None:
            jobs._pool = queue.pop(0)  # type: ignore[assignment]
        return jobs._pool  # type: ignore[return-value]

    jobs._executor = executor  # type: ignore[method-assign]
    return jobs


def _request(tmp_path: Path) -> WorkRequest:
    return WorkRequest(capture_dir=tmp_path, out_dir=tmp_path / "out",
                       session_started_at=datetime(2026, 12, 7, tzinfo=UTC))


async def test_a_job_whose_pool_broke_runs_again_on_a_fresh_one(tmp_path: Path) -> None:
    done = WorkResult({}, line_count=3, tracks=1, skipped=())
    broken, fresh = Pool(BrokenProcessPool("a worker died")), Pool(done)
    jobs = _jobs(tmp_path, broken, fresh)
    assert await jobs._work("s1", _request(tmp_path)) is done
    assert broken.closed and not fresh.closed and jobs._pool is fresh


async def test_a_job_that_breaks_every_pool_fails_once_retried(tmp_path: Path) -> None:
    first, second = Pool(BrokenProcessPool("oom")), Pool(BrokenProcessPool("oom again"))
    jobs = _jobs(tmp_path, first, second)
    with pytest.raises(TranscriptionFailed, match="worker process died"):
        await jobs._work("s1", _request(tmp_path))
    assert first.closed and second.closed


def test_a_late_word_of_a_broken_pool_leaves_the_fresh_one_open(tmp_path: Path) -> None:
    broken, fresh = Pool(None), Pool(None)
    jobs = _jobs(tmp_path, fresh)
    jobs._close_pool(broken)  # not the pool any more
    assert jobs._pool is None or jobs._pool is fresh
    jobs._executor()
    jobs._close_pool(broken)
    assert jobs._pool is fresh and not fresh.closed
    jobs._close_pool()
    assert fresh.closed and jobs._pool is None
