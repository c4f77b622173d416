"""No input file makes the readers or the importer fail unexpectedly (issue 13): hypothesis
feeds them random bytes and CRM files (`tests/support/crm_files.py`) mutated byte by byte,
gzipped or not, in chunks of any size. Every outcome is rows (cells, objects, or a line's
rejection), a summary, or one of the refusals a whole input may get: `InvalidInput` (422) and
`TooLarge` (413). Anything else (a csv.Error, a UnicodeError, a ValueError…) would be a 500
over HTTP and a traceback in the CLI. The HTTP side: tests/http/test_imports.py.

Bounded for CI by time: batches of examples until each test's seconds are spent (`fuzz_for`),
about 15 s in all. Seeded, so CI runs the same examples each time (a busy machine runs fewer
of them); `PREFSTORE_FUZZ_RANDOM=1` starts from a random seed and `PREFSTORE_FUZZ_SECONDS`
gives each test longer, to explore.
"""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import os
import random
import time
import uuid
from collections.abc import Callable

import fakeredis
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st

from prefstore.config import Settings
from prefstore.errors import InvalidInput, TooLarge
from prefstore.models.results import ImportSummary
from prefstore.services import Services
from prefstore.transfer.readers import Format, read_rows
from tests.support.crm_files import NOISE, SAMPLES, mutated
from tests.support.imports import chunks, run_import

BATCH = 25
"""Examples per hypothesis run; runs follow one another, each with its own seed, until the
test's time is spent."""
SECONDS = float(os.environ.get("PREFSTORE_FUZZ_SECONDS", "5"))
"""Per test (the importer's test has twice this)."""
FIRST_SEED = random.randrange(1 << 32) if "PREFSTORE_FUZZ_RANDOM" in os.environ else 0
FUZZ = settings(
    max_examples=BATCH,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
REFUSALS = (InvalidInput, TooLarge)

edits = st.lists(
    st.tuples(
        st.sampled_from(["insert", "delete", "replace", "repeat", "cut"]),
        st.integers(0, 1000),
        st.one_of(st.sampled_from(NOISE), st.binary(min_size=1, max_size=8)),
    ),
    max_size=6,
)


@st.composite
def crm_files(draw: st.DrawFn) -> bytes:
    """A sample mutated, gzipped (perhaps cut short) or not; or bytes at random."""
    if draw(st.integers(0, 4)) == 0:
        return draw(st.binary(max_size=2048))
    data = mutated(SAMPLES[draw(st.sampled_from(sorted(SAMPLES)))], draw(edits))
    if draw(st.integers(0, 5)) == 0:
        data = gzip.compress(data, mtime=0)
        data = data[: draw(st.integers(1, len(data)))]
    return data


def fuzz_for(seconds: float, test: Callable[[], None]) -> int:
    """Run the hypothesis `test` in batches of `BATCH` examples, seeded 0, 1, 2… (the same
    examples every CI run), until `seconds` are spent; returns how many batches ran. A batch
    that finds a failure shrinks it and fails the test, as any hypothesis test does."""
    ends = time.monotonic() + seconds
    batches = 0
    while time.monotonic() < ends:
        seed(FIRST_SEED + batches)(test)()
        batches += 1
    return batches


async def _read_all(data: bytes, fmt: Format | None, size: int) -> None:
    async for batch in read_rows(chunks(data, size), fmt, max_bytes=100_000):
        assert batch.header is None or all(isinstance(c, str) for c in batch.header)
        assert isinstance(batch.encoding, str)
        for line, raw in batch.rows:
            assert isinstance(line, int) and line >= 1
            if isinstance(raw, list):
                assert all(isinstance(cell, str) for cell in raw)
            else:
                assert isinstance(raw, dict | InvalidInput), raw


def test_the_readers_read_or_refuse_any_bytes() -> None:
    @FUZZ
    @given(
        data=crm_files(),
        fmt=st.sampled_from([None, "csv", "ndjson"]),
        size=st.sampled_from([1, 2, 3, 7, 64, 4096]),
    )
    def run(data: bytes, fmt: Format | None, size: int) -> None:
        with contextlib.suppress(*REFUSALS):
            asyncio.run(_read_all(data, fmt, size))

    assert fuzz_for(SECONDS, run) >= 2


def test_the_importer_answers_any_file_with_a_summary_or_a_refusal() -> None:
    """End to end on fakeredis: read, convert, merge, write. The summary adds up."""
    server = fakeredis.FakeServer()

    @FUZZ
    @given(data=crm_files(), fmt=st.sampled_from([None, "csv", "ndjson"]))
    def run(data: bytes, fmt: Format | None) -> None:
        try:
            summary = asyncio.run(_imported(server, data, fmt))
        except REFUSALS:
            return
        outcomes = (summary.created, summary.updated, summary.unchanged, summary.suppressed)
        assert summary.rows == sum(outcomes) + summary.rejected
        assert len(summary.rejections) <= summary.rejected

    assert fuzz_for(2 * SECONDS, run) >= 2


async def _imported(server: fakeredis.FakeServer, data: bytes, fmt: Format | None) -> ImportSummary:
    client = fakeredis.FakeAsyncRedis(server=server)
    try:
        settings_ = Settings(key_prefix=f"fz{uuid.uuid4().hex[:8]}:", redis_url="redis://unused")
        services = Services.build(settings_, client)
        return await run_import(services.store, data, format=fmt, max_bytes=100_000)
    finally:
        await client.aclose()


def test_every_sample_imports_as_a_crm_admin_would_expect() -> None:
    """The unmutated samples themselves: read, and their good rows imported."""

    async def go() -> dict[str, ImportSummary]:
        return {
            name: await _imported(fakeredis.FakeServer(), data, None)
            for name, data in SAMPLES.items()
        }

    summaries = asyncio.run(go())
    for name in ("utf-8", "utf-8 bom crlf", "utf-16 tab", "utf-16-be", "cp1252 semicolon cr"):
        found = summaries[name]
        assert (found.created, found.rejected, found.unknown_columns) == (2, 1, []), name
    assert summaries["gzip"].created == 2
    assert [s.encoding for s in summaries.values()] == [
        "utf-8",
        "utf-8-sig",
        "utf-16-le",
        "utf-16-be",
        "cp1252",
        "cp1252",
        "utf-8",
        "utf-8",
        "utf-8-sig",
        "utf-16-le",
    ]
    excel = summaries["excel"]
    assert (excel.created, excel.rejected, excel.unknown_columns) == (1, 0, [])
