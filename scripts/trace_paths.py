"""Which project files one lookup and one import row pass through, in order.

    .venv/bin/python scripts/trace_paths.py

Starts an embedded redis-server (the project's own binary), seeds one customer, then traces
with `sys.setprofile`:
* a lookup by id and a lookup by phone, from the route function to the Redis command
  (the pipelined connection's write);
* one CSV row of `prefstore import FILE` (the CLI's own `import_file`), a new customer and
  then an update, from the reader that reads its bytes to the batch send of its
  compare-and-set script.

A file counts once, at its first call; a generator or coroutine resumed is not a call. Work
done once per input header, batch or file (`PER_FILE_SETUP`) is listed apart. A
*re-entry* is a stage the row comes back to: a call into a file F, made from a file the
row first reached after F, while no frame of F is on the stack. Leaf helpers (files that
call no other project file, such as the key space naming a key) never count as
re-entered: the row does not travel through them, it asks them for a name.
"""

from __future__ import annotations

import asyncio
import inspect
import io
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import Any

import httpx
from rich.console import Console

from prefstore.config import Settings
from prefstore.http.app import create_app
from prefstore.http.deps import services_of
from prefstore.models.inputs import CustomerCreate
from prefstore.redis.connection import connect
from prefstore.redis.embedded import EmbeddedRedis
from prefstore.services import Services
from prefstore.transfer.console import import_file
from prefstore.transfer.importer import ImportOptions

SOURCE = str(Path(__file__).resolve().parents[1] / "src" / "prefstore") + "/"
_SUSPENDABLE = inspect.CO_GENERATOR | inspect.CO_COROUTINE | inspect.CO_ASYNC_GENERATOR
PER_FILE_SETUP = {
    ("transfer/mapping.py", "resolve"),
    ("transfer/console.py", "on_rows"),
    ("transfer/rejects.py", "close"),
}
"""Work done once per input header, batch or file, not per row: resolving the column mapping
(the row only reads the resolved `targets`), the CLI's progress bar, closing the rejects
file. Listed apart."""
ROW = "name,email,phone,allergies\nGrace Hopper,grace@example.com,+1 415 555 0199,Peanuts\n"


class Tracer:
    """Records calls into project files between a start file and an end file."""

    def __init__(self, start: str, end: str) -> None:
        self.start, self.end = start, end
        self.order: list[str] = []
        self.calls: list[tuple[str, str | None, frozenset[str]]] = []
        self.on = False
        self.done = False
        self.setup: set[str] = set()
        self._setup: FrameType | None = None
        self._started: dict[int, FrameType] = {}
        """Frames already entered (kept alive, so an id is never reused while tracing): a
        generator or coroutine resumed is not a new call."""

    def __call__(self, frame: FrameType, event: str, _arg: Any) -> None:
        if self._setup is not None:
            if event == "return" and frame is self._setup:
                self._setup = None
            return
        if event != "call" or self.done:
            return
        name = _project_file(frame)
        if name is None or self._started.get(id(frame)) is frame:
            return
        if frame.f_code.co_flags & _SUSPENDABLE:
            self._started[id(frame)] = frame
        if not self.on and name == self.start:
            self.on = True
        if not self.on:
            return
        if (name, frame.f_code.co_name) in PER_FILE_SETUP:
            self._setup = frame
            self.setup.add(f"{name} ({frame.f_code.co_name})")
            return
        caller, on_stack = _callers(frame.f_back)
        self.calls.append((name, caller, on_stack))
        if name not in self.order:
            self.order.append(name)
        if name == self.end:
            self.done = True

    def reentered(self) -> list[str]:
        """Stages the row came back to: a call into a non-leaf file F from a file that the
        row first reached after F (a later stage calling back into an earlier one)."""
        stage = {name: index for index, name in enumerate(self.order)}
        non_leaf = {caller for name, caller, _stack in self.calls if caller and caller != name}
        again: list[str] = []
        for name, caller, on_stack in self.calls:
            if caller is None or caller == name or name in on_stack or name not in non_leaf:
                continue
            if caller not in stage:  # a caller entered before the start (the fast path)
                continue
            if stage[caller] > stage[name] and name not in again:
                again.append(name)
        return again


def _project_file(frame: FrameType | None) -> str | None:
    if frame is None:
        return None
    path = frame.f_code.co_filename
    return path[len(SOURCE) :] if path.startswith(SOURCE) else None


def _callers(frame: FrameType | None) -> tuple[str | None, frozenset[str]]:
    caller = None
    stack: set[str] = set()
    while frame is not None:
        name = _project_file(frame)
        if name is not None:
            caller = caller or name
            stack.add(name)
        frame = frame.f_back
    return caller, frozenset(stack)


async def traced(tracer: Tracer, action: Callable[[], Any]) -> None:
    sys.setprofile(tracer)
    try:
        await action()
    finally:
        sys.setprofile(None)


def report(title: str, tracer: Tracer) -> None:
    print(f"\n{title}: {len(tracer.order)} files")
    for number, name in enumerate(tracer.order, 1):
        print(f"  {number:2d}. {name}")
    if tracer.setup:
        print(f"  once per header, batch or file, not per row: {', '.join(sorted(tracer.setup))}")
    again = tracer.reentered()
    print(f"  re-entered: {', '.join(again) if again else 'none'}")


async def main() -> None:
    with tempfile.TemporaryDirectory() as data_dir:
        async with EmbeddedRedis(Path(data_dir)) as url:
            settings = Settings(redis_url=url, key_prefix="trace:")
            client = connect(url, 2.0)
            services = Services.build(settings, client)
            await services.store.create(
                CustomerCreate(id="ada", name="Ada Lovelace", phones=["+14155550123"]),
                actor="trace",
            )
            key = (await services.keystore.create("trace", ["lookup"])).key
            headers = {"authorization": f"Bearer {key}"}
            app = create_app(settings)
            transport = httpx.ASGITransport(app=app)  # in this thread, so the profiler sees it
            async with app.lifespan(), httpx.AsyncClient(transport=transport) as http:
                for title, path in (
                    ("lookup by id", "/v1/customers/ada"),
                    ("lookup by phone (E.164)", "/v1/lookup?phone=%2B14155550123"),
                    ("lookup by phone (as typed)", "/v1/lookup?phone=415-555-0123"),
                ):
                    warm = await http.get(f"http://prefstore{path}", headers=headers)
                    assert warm.status_code == 200, warm.text  # and caches, scripts are warm
                    services_of(app.state).reader.forget("ada")  # the near-cache's miss path
                    tracer = Tracer("http/lookup.py", "redis/pipelined.py")
                    url = f"http://prefstore{path}"
                    await traced(tracer, lambda u=url: http.get(u, headers=headers))
                    report(title, tracer)
            for title, row in (
                ("import row (CSV), a new customer", ROW),
                ("import row (CSV), an update", ROW.replace("Peanuts", "Peanuts;Sesame")),
            ):
                tracer = Tracer("transfer/readers.py", end="")  # to the last batch send

                async def one_row(data: bytes = row.encode()) -> None:
                    # As `prefstore import FILE` runs it: the CLI's file reader and progress.
                    path = Path(data_dir) / "customers.csv"
                    path.write_bytes(data)
                    console = Console(file=io.StringIO())
                    summary, _ = await import_file(
                        services.importer, path, ImportOptions(), None, console, True
                    )
                    assert summary.created + summary.updated == 1, summary

                await traced(tracer, one_row)
                report(title, tracer)
            await client.aclose()


if __name__ == "__main__":
    asyncio.run(main())
