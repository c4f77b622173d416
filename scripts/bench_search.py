"""Customer search engines side by side: prefstore's `SearchIndex`, tantivy, PostgreSQL pg_trgm.

Same customers, same queries (`scripts/gen_eval_set.py`, fixed seed), one process:

* **prefstore**: `SearchIndex` (its public facade only: `upsert`, `search(q, 10, "staff")`)
  built in-process from the generated records (no HTTP, no Redis);
* **tantivy** (the anchor of issue 14), set up as a careful user would: folded name words
  with positions, the first and the last word as fields of their own, per-word fuzzy term
  queries (1 edit from 3 letters, 2 from 6, a transposition costs one, prefix on the last
  word and on an initial), scored in constant tiers (exact 10 > prefix 8 > 1 edit 6 >
  prefix within 1 edit 4 > 2 edits 2) with every word required, plus a phrase bonus and a
  first/last-field bonus; email local part, domain and local-part trigrams; phone digits,
  last 7 and last 4 as terms. It gets what the engine is given: a non-Latin name is indexed
  in its own script (Han and kana, and other scripts, each in a field apart from Latin)
  *and* as its `anyascii` transliteration (Han syllables also one by one and joined), a
  non-Latin query word may match either way, and a query word matches the names the
  `nicknames` dataset links it with (tier 9). One indexing thread, so the index is one
  segment. `--tantivy-prefix-all` adds a variant on the same index with prefix matching on
  every word (type-ahead);
* **pg_trgm** (`--pg`): a table with the folded name, email and phone digits, GIN
  `gin_trgm_ops` indexes, queried as a user of pg_trgm would: `name % q ORDER BY
  similarity(name, q) DESC LIMIT 10`, the same on email, `phone LIKE '%digits'`.

Queries are parsed and folded here (`parse`, with the generator's own `fold`), not with the
engine's code, so the other engines do not move when the engine changes. Latency is per query
(parse and query building included), engines interleaved query by query, after 50 warm-up
queries. Memory, per engine, says how it was measured:

* prefstore: `tracemalloc` net bytes of a second build (every Python object and numpy array
  the index holds; the first, timed build runs without tracing; module-level caches the first
  build filled are not counted again), and the process RSS delta of the first build
  (undercounts: the allocator reuses what the generator freed). Ranking only: since issue 14
  the facade's `rank` gives the ids and `search` adds the cues from Redis, left out here as
  it is for tantivy (which does include its ordinal → id lookup);
* tantivy: the index files (a directory under /tmp, memory-mapped when searched) plus the
  ordinal → id list (`tracemalloc`), and the RSS delta of the build;
* pg_trgm: `pg_indexes_size` (the table not included).

    python scripts/bench_search.py --sizes 100000 1000000 --queries 1700 --seed 7 --pg
    python scripts/bench_search.py --sizes 100000 --queries 2200 --seed 7 --extended
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import re
import shutil
import statistics
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
import tantivy
from anyascii import anyascii
from nicknames import NickNamer

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from prefstore.models.records import CustomerRecord
from prefstore.search.index import SearchIndex
from scripts.gen_eval_set import SCRIPT_KINDS, SEED, EvalQuery, fold, make_eval_set

TOP = 10
WARM_UP = 50
MAX_WORDS = 8


def rss_bytes() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else 0.0


def mib(n: float) -> str:
    return f"{n / 2**20:,.0f} MiB"


# ---------------------------------------------------------------- queries, parsed here
@dataclass
class Parsed:
    words: list[str]
    numbers: list[str]
    emails: list[tuple[str, str]]
    """(local part, domain), lower-cased."""


_APOSTROPHES = re.compile("['`\u2019\u02bc]")


def fold_name(text: str) -> str:
    """`fold`, with apostrophes inside a word dropped ("O'Brien", anyascii's "Ol'ga")."""
    return fold(_APOSTROPHES.sub("", text))


def digits(text: str) -> str:
    return "".join(ch for ch in text if ch.isdigit())


def parse(text: str) -> Parsed:
    """Name words, digit runs of 3+ (adjacent groups joined: "555 0123") and emails."""
    words: list[str] = []
    numbers: list[str] = []
    emails: list[tuple[str, str]] = []
    run = ""
    for raw in text.split():
        stripped = raw.strip("+-().,;")
        if "@" in raw:
            local, _, domain = raw.strip("<>,;").casefold().partition("@")
            emails.append((local, domain))
        elif stripped and all(ch.isdigit() or ch in "-./()" for ch in stripped):
            run += digits(stripped)
            continue
        else:
            words.extend(fold_name(raw).split())
        if len(run) >= 3:
            numbers.append(run)
        run = ""
    if len(run) >= 3:
        numbers.append(run)
    return Parsed(words[:MAX_WORDS], numbers, emails)


# ---------------------------------------------------------------- engines
@dataclass
class Engine:
    name: str
    search: Callable[[str], list[str]]
    build_s: float
    memory: dict[str, int]
    """Labelled figures, the first one the headline (bytes)."""
    close: Callable[[], None] = lambda: None
    variants: dict[str, Callable[[str], list[str]]] = field(default_factory=dict)
    """Other ways of querying the same index, measured as engines of their own."""

    def memory_line(self, customers: int) -> str:
        parts = [
            f"{label} {mib(size)} ({size / customers:,.0f} B/customer)"
            for label, size in self.memory.items()
        ]
        return f"{self.name}: " + "; ".join(parts)


def build_prefstore(customers: list[CustomerRecord], traced: bool = True) -> Engine:
    gc.collect()
    before = rss_bytes()
    started = time.perf_counter()
    index = load_index(customers)
    build_s = time.perf_counter() - started
    gc.collect()
    memory = {"RSS delta": rss_bytes() - before}
    if traced:
        memory = {"tracemalloc (second build)": _traced_bytes(customers), **memory}
    return Engine("prefstore", ranking(index), build_s, memory)


def load_index(customers: list[CustomerRecord]) -> SearchIndex:
    index = SearchIndex()
    for record in customers:
        index.upsert(record)
    if hasattr(index, "settle"):  # the facade since issue 14: fold a bulk load in
        index.settle()
    return index


def ranking(index: SearchIndex) -> Callable[[str], list[str]]:
    """The ids of the top hits, through the facade: `rank` where the index has it (since
    issue 14 the cues come from Redis, which this in-process comparison leaves out, as it
    does for tantivy), else the synchronous `search` it had before."""
    if hasattr(index, "rank"):
        return lambda text: [r.id for r in index.rank(text, TOP)]
    legacy: Any = index
    return lambda text: [h.id for h in legacy.search(text, TOP, "staff")]


def _traced_bytes(customers: list[CustomerRecord]) -> int:
    """Net bytes a `SearchIndex` holds: built once more under tracemalloc, then dropped."""
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    index = load_index(customers)
    gc.collect()
    held = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    del index
    gc.collect()
    return held


# ---------------------------------------------------------------- tantivy
_HAN = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uf900-\ufaff]")
_CAPITALS = re.compile(r"[A-Z][a-z]*")
TIERS = {
    "exact": 10.0, "nickname": 9.0, "prefix": 8.0, "edit1": 6.0, "prefix_edit1": 4.0,
    "edit2": 2.0,
}  # fmt: skip
PHRASE_BONUS = 3.0
FIELD_BONUS = 1.0


def latin_forms(word: str, indexed: bool = True) -> list[str]:
    """The folded `anyascii` forms of a non-Latin word: the whole; indexed, for Han, also its
    syllables and the syllables after the first joined (a given name after a one-character
    surname), so "Wang Xiuying" finds 王秀英."""
    if word.isascii():
        return []
    spelled = anyascii(word)
    forms = fold_name(spelled).split()
    if _HAN.search(word) and not indexed:
        forms = ["".join(forms)]
    elif _HAN.search(word):
        syllables = [s.lower() for s in _CAPITALS.findall(spelled)]
        forms += [*syllables, "".join(syllables), "".join(syllables[1:])]
    return [f for f in dict.fromkeys(forms) if f and f != word]


def script_field(word: str) -> str:
    """The name field a folded word is indexed in: Latin, Han and kana, or another script."""
    if word.isascii():
        return "name"
    return "han" if _HAN.search(word) else "native"


def trigrams(text: str) -> list[str]:
    padded = f"^{re.sub(r'[^0-9a-z]', '', text)}$"
    return sorted({padded[i : i + 3] for i in range(len(padded) - 2)})


def _schema() -> tantivy.Schema:
    builder = tantivy.SchemaBuilder()
    # Latin words (names in Latin script and the transliterations of the others), Han and
    # kana, and other scripts in fields apart: a fuzzy query walks every short prefix of its
    # field's terms, and tens of thousands of two-character Han names in one field with the
    # rest made Latin and Cyrillic queries 5-10x slower.
    for name in ("name", "native", "han"):
        builder.add_text_field(name, tokenizer_name="whitespace", index_option="position")
    for name in ("first", "last", "local", "domain", "trigram", "phone"):
        builder.add_text_field(name, tokenizer_name="whitespace", index_option="basic")
    builder.add_unsigned_field("ord", fast=True)
    return builder.build()


def _document(ordinal: int, record: CustomerRecord) -> tantivy.Document:
    words = fold_name(record.name).split()
    latin = [form for w in words for form in latin_forms(w)]
    first = {words[0], *latin_forms(words[0])}
    last = {words[-1], *latin_forms(words[-1])}
    locals_ = [e.casefold().partition("@")[0] for e in record.emails]
    phones = [digits(p) for p in record.phones]
    doc = tantivy.Document()
    doc.add_unsigned("ord", ordinal)
    texts = {
        "name": [*(w for w in words if w.isascii()), *latin],
        "native": [w for w in words if not w.isascii() and not _HAN.search(w)],
        "han": [w for w in words if _HAN.search(w)],
        "first": sorted(first),
        "last": sorted(last),
        "local": locals_,
        "domain": [e.casefold().partition("@")[2] for e in record.emails],
        "trigram": [t for local in locals_ for t in trigrams(local)],
        "phone": [d for p in phones for d in (p, p[-7:], p[-4:])],
    }
    for name, values in texts.items():
        if values:
            doc.add_text(name, " ".join(values))
    return doc


class TantivyQueries:
    """Builds the tiered query of the module docstring from a `Parsed` query."""

    def __init__(self, schema: tantivy.Schema, prefix_all: bool = False) -> None:
        self.schema = schema
        self.prefix_all = prefix_all
        # The same dataset the engine is given (issue 14): a nickname matches its full names
        # and the reverse, as exact terms.
        self.nicknames = NickNamer()

    def _const(self, query: tantivy.Query, score: float) -> tantivy.Query:
        return tantivy.Query.const_score_query(query, score)

    def _fuzzy(self, fld: str, word: str, distance: int, prefix: bool) -> tantivy.Query:
        return tantivy.Query.fuzzy_term_query(self.schema, fld, word, distance, True, prefix)

    def tiers(self, fld: str, word: str, prefix: bool) -> list[tantivy.Query]:
        q = [self._const(tantivy.Query.term_query(self.schema, fld, word), TIERS["exact"])]
        if prefix:
            q.append(self._const(self._fuzzy(fld, word, 0, True), TIERS["prefix"]))
        if len(word) >= 3:
            q.append(self._const(self._fuzzy(fld, word, 1, False), TIERS["edit1"]))
            if prefix:
                q.append(self._const(self._fuzzy(fld, word, 1, True), TIERS["prefix_edit1"]))
        if len(word) >= 6:
            q.append(self._const(self._fuzzy(fld, word, 2, False), TIERS["edit2"]))
        return q

    def word(self, word: str, prefix: bool) -> tantivy.Query:
        if word.isascii():
            options = self.tiers("name", word, prefix)
        else:
            options = self.tiers(script_field(word), word, prefix)
            for form in latin_forms(word, indexed=False):
                options += self.tiers("name", form, prefix)
        for other in sorted(self.nicknames.canonicals_of(word) | self.nicknames.nicknames_of(word)):
            term = tantivy.Query.term_query(self.schema, "name", other)
            options.append(self._const(term, TIERS["nickname"]))
        return tantivy.Query.disjunction_max_query(options)

    def name(self, words: list[str]) -> list[tuple[tantivy.Occur, tantivy.Query]]:
        must, should = tantivy.Occur.Must, tantivy.Occur.Should
        clauses = [
            (must, self.word(w, prefix=self.prefix_all or i == len(words) - 1 or len(w) == 1))
            for i, w in enumerate(words)
        ]
        scripts = {script_field(w) for w in words}
        if len(words) >= 2 and len(scripts) == 1:
            field_name = scripts.pop()
            phrase = tantivy.Query.phrase_query(
                self.schema, field_name, list[str | tuple[int, str]](words)
            )
            clauses.append((should, self._const(phrase, PHRASE_BONUS)))
        for fld, w in (("first", words[0]), ("last", words[-1])):
            term = tantivy.Query.term_query(self.schema, fld, w)
            clauses.append((should, self._const(term, FIELD_BONUS)))
        return clauses

    def email(self, local: str, domain: str) -> list[tuple[tantivy.Occur, tantivy.Query]]:
        term = tantivy.Query.term_query
        options = [self._const(term(self.schema, "local", local), 20.0)]
        if len(local) >= 3:
            options.append(self._const(self._fuzzy("local", local, 1, False), 12.0))
        if len(local) >= 6:
            options.append(self._const(self._fuzzy("local", local, 2, False), 8.0))
        grams = [self._const(term(self.schema, "trigram", t), 0.5) for t in trigrams(local)]
        local_q = tantivy.Query.boolean_query(
            [(tantivy.Occur.Should, q) for q in [tantivy.Query.disjunction_max_query(options)]]
            + [(tantivy.Occur.Should, g) for g in grams]
        )
        clauses = [(tantivy.Occur.Must, local_q)]
        if domain:
            near = [self._const(term(self.schema, "domain", domain), 3.0)]
            if len(domain) >= 3:
                near.append(self._const(self._fuzzy("domain", domain, 1, False), 2.0))
            clauses.append((tantivy.Occur.Should, tantivy.Query.disjunction_max_query(near)))
        return clauses

    def build(self, text: str) -> tantivy.Query | None:
        parsed = parse(text)
        clauses: list[tuple[tantivy.Occur, tantivy.Query]] = []
        if parsed.words:
            clauses += self.name(parsed.words)
        for local, domain in parsed.emails:
            clauses += self.email(local, domain)
        for number in parsed.numbers:
            term = tantivy.Query.term_query(self.schema, "phone", number)
            clauses.append((tantivy.Occur.Must, term))
        return tantivy.Query.boolean_query(clauses) if clauses else None


def build_tantivy(customers: list[CustomerRecord], prefix_all_too: bool = False) -> Engine:
    gc.collect()
    before = rss_bytes()
    directory = Path(tempfile.mkdtemp(prefix="bench-tantivy-"))
    started = time.perf_counter()
    schema = _schema()
    index = tantivy.Index(schema, path=str(directory))
    # One indexing thread with room for the whole load: one segment, as a careful user would
    # leave a read-only index (each extra segment is searched too; these bindings cannot merge).
    writer = index.writer(heap_size=2_000_000_000, num_threads=1)
    for ordinal, record in enumerate(customers):
        writer.add_document(_document(ordinal, record))
    writer.commit()
    writer.wait_merging_threads()
    index.reload()
    searcher = index.searcher()
    tracemalloc.start()
    # ordinal → id, as a deployment would hold it: its own strings, not the records'.
    ids = [c.id.encode().decode() for c in customers]
    ids_bytes = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    build_s = time.perf_counter() - started
    files = sum(f.stat().st_size for f in directory.rglob("*") if f.is_file())
    rss_delta = rss_bytes() - before

    def searching(queries: TantivyQueries) -> Callable[[str], list[str]]:
        def search(text: str) -> list[str]:
            query = queries.build(text)
            if query is None:
                return []
            hits = searcher.search(query, TOP).hits
            ordinals = searcher.fast_field_values("ord", [address for _, address in hits])
            return [ids[int(o)] for o in ordinals if o is not None]

        return search

    memory = {
        "index files + id list": files + ids_bytes,
        "index files": files,
        "id list (tracemalloc)": ids_bytes,
        "RSS delta": rss_delta,
    }
    print(f"  tantivy: {searcher.num_segments} segment(s) in {directory}")
    variants = {}
    if prefix_all_too:
        variants["tantivy_prefix_all"] = searching(TantivyQueries(schema, prefix_all=True))
    return Engine(
        "tantivy",
        searching(TantivyQueries(schema)),
        build_s,
        memory,
        lambda: shutil.rmtree(directory, ignore_errors=True),
        variants,
    )


# ---------------------------------------------------------------- pg_trgm
DSN = "host=127.0.0.1 port=5432 user=postgres dbname=test"
TABLE = "bench_customers"
STATEMENT_TIMEOUT_MS = 2000


def build_pg(customers: list[CustomerRecord]) -> Engine:
    conn = psycopg.connect(DSN)
    with conn.cursor() as cur:
        cur.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        cur.execute(f"DROP TABLE IF EXISTS {TABLE}")
        cur.execute(
            f"CREATE UNLOGGED TABLE {TABLE} (id text PRIMARY KEY, name text NOT NULL, "
            "email text, phone text)"
        )
        started = time.perf_counter()
        with cur.copy(f"COPY {TABLE} (id, name, email, phone) FROM STDIN") as copy:
            for c in customers:
                email = c.emails[0] if c.emails else None
                copy.write_row(
                    (c.id, fold(c.name), email, digits(c.phones[0]) if c.phones else None)
                )
        cur.execute("SET maintenance_work_mem = '1GB'")
        for column in ("name", "email", "phone"):
            cur.execute(
                f"CREATE INDEX {TABLE}_{column} ON {TABLE} USING gin ({column} gin_trgm_ops)"
            )
        cur.execute(f"ANALYZE {TABLE}")
        build_s = time.perf_counter() - started
        cur.execute("SELECT pg_indexes_size(%s::regclass)", (TABLE,))
        row = cur.fetchone()
        assert row is not None
    conn.execute(f"SET statement_timeout = {STATEMENT_TIMEOUT_MS}")
    conn.commit()

    def close() -> None:
        conn.execute(f"DROP TABLE IF EXISTS {TABLE}")
        conn.commit()
        conn.close()

    memory = {"pg_indexes_size": int(row[0])}
    return Engine("pg_trgm", _pg_search(conn), build_s, memory, close)


def _pg_search(conn: psycopg.Connection) -> Callable[[str], list[str]]:
    # TABLE and TOP are constants of this script; the query text goes in as parameters.
    order = "ORDER BY similarity({0}, %s) DESC LIMIT " + str(TOP)
    by_name = f"SELECT id FROM {TABLE} WHERE name %% %s " + order.format("name")  # noqa: S608
    by_email = f"SELECT id FROM {TABLE} WHERE email %% %s " + order.format("email")  # noqa: S608
    by_phone = f"SELECT id FROM {TABLE} WHERE phone LIKE %s ORDER BY id LIMIT {TOP}"  # noqa: S608
    by_name_phone = f"SELECT id FROM {TABLE} WHERE phone LIKE %s " + order.format("name")  # noqa: S608

    def search(text: str) -> list[str]:
        parsed = parse(text)
        name = " ".join(parsed.words)
        with conn.cursor() as cur:
            try:
                if parsed.emails:
                    email = text.strip().casefold()
                    cur.execute(by_email, (email, email), prepare=True)
                elif parsed.numbers and name:
                    cur.execute(by_name_phone, (f"%{parsed.numbers[0]}", name), prepare=True)
                elif parsed.numbers:
                    cur.execute(by_phone, (f"%{parsed.numbers[0]}",), prepare=True)
                else:
                    cur.execute(by_name, (name, name), prepare=True)
                rows = cur.fetchall()
            except psycopg.errors.QueryCanceled:
                rows = []
        conn.rollback()
        return [r[0] for r in rows]

    return search


BUILDERS: dict[str, Callable[[list[CustomerRecord]], Engine]] = {
    "prefstore": build_prefstore,
    "tantivy": build_tantivy,
    "pg_trgm": build_pg,
}


# ---------------------------------------------------------------- measuring
@dataclass
class Quality:
    queries: int = 0
    at1: int = 0
    at5: int = 0
    reciprocal: float = 0.0
    latencies_ms: list[float] = field(default_factory=list)

    def add(self, rank: int | None, elapsed_ms: float) -> None:
        self.queries += 1
        self.at1 += rank == 1
        self.at5 += rank is not None and rank <= 5
        self.reciprocal += 1 / rank if rank else 0.0
        self.latencies_ms.append(elapsed_ms)

    @property
    def recall_at_1(self) -> float:
        return self.at1 / self.queries if self.queries else 0.0

    @property
    def recall_at_5(self) -> float:
        return self.at5 / self.queries if self.queries else 0.0

    @property
    def mrr(self) -> float:
        return self.reciprocal / self.queries if self.queries else 0.0

    @property
    def p50(self) -> float:
        return statistics.median(self.latencies_ms) if self.latencies_ms else 0.0

    @property
    def p99(self) -> float:
        return percentile(self.latencies_ms, 0.99)


@dataclass
class SearchReport:
    overall: Quality
    by_kind: dict[str, Quality]
    by_note: dict[tuple[str, str], Quality]
    misses: list[tuple[EvalQuery, list[str]]]
    digest: str
    """A hash of every ranking: equal in two processes when ranking is deterministic."""


def rank_of(hits: list[str], relevant: set[str]) -> int | None:
    return next((i for i, h in enumerate(hits, 1) if h in relevant), None)


def evaluate(
    searches: dict[str, Callable[[str], list[str]]], queries: list[EvalQuery], warm_up: int = 0
) -> dict[str, SearchReport]:
    """Each query through every engine in turn (so background load hits all alike)."""
    for q in queries[:warm_up]:
        for search in searches.values():
            search(q.text)
    reports = {name: SearchReport(Quality(), {}, {}, [], "") for name in searches}
    digests = {name: hashlib.sha256() for name in searches}
    for q in queries:
        for name, search in searches.items():
            started = time.perf_counter()
            hits = search(q.text)
            elapsed = (time.perf_counter() - started) * 1000
            rank = rank_of(hits, set(q.relevant))
            report = reports[name]
            for bucket in _buckets(report, q):
                bucket.add(rank, elapsed)
            if rank is None or rank > 5:
                report.misses.append((q, hits[:5]))
            digests[name].update(("\0".join([q.text, *hits]) + "\n").encode())
    for name, report in reports.items():
        report.digest = digests[name].hexdigest()[:16]
    return reports


def _buckets(report: SearchReport, q: EvalQuery) -> Iterable[Quality]:
    yield report.overall
    yield report.by_kind.setdefault(q.kind, Quality())
    if q.kind in SCRIPT_KINDS:
        yield report.by_note.setdefault((q.kind, q.note), Quality())


def print_side_by_side(
    reports: dict[str, SearchReport], notes: bool = False, *, file: object = None
) -> None:
    """One row per query kind, each engine's R@1, R@5, p50 and p99 side by side (markdown)."""
    engines = list(reports)
    head = " | ".join(f"{e} R@1 | {e} R@5 | {e} p50 ms | {e} p99 ms" for e in engines)
    print(f"| kind | n | {head} |")
    print("|---|---:|" + "---:|" * (4 * len(engines)))
    first = reports[engines[0]]
    keys: list[tuple[str, str]] = [(k, "") for k in sorted(first.by_kind)]
    if notes:
        keys += sorted(first.by_note)
    for kind, note in [*keys, ("ALL", "")]:
        cells = []
        n = 0
        for e in engines:
            report = reports[e]
            if kind == "ALL":
                quality = report.overall
            elif note:
                quality = report.by_note[kind, note]
            else:
                quality = report.by_kind[kind]
            n = quality.queries
            cells.append(
                f"{quality.recall_at_1:.3f} | {quality.recall_at_5:.3f} | "
                f"{quality.p50:.2f} | {quality.p99:.2f}"
            )
        label = f"{kind} [{note}]" if note else kind
        print(f"| {label} | {n} | " + " | ".join(cells) + " |")


def measure_engines(
    customers: list[CustomerRecord],
    queries: list[EvalQuery],
    engines: list[str],
    prefix_all: bool = False,
) -> tuple[dict[str, SearchReport], list[Engine]]:
    """Builds each engine from `customers` and runs every query through all of them."""
    built = []
    for name in engines:
        if name == "tantivy":
            engine = build_tantivy(customers, prefix_all_too=prefix_all)
        else:
            engine = BUILDERS[name](customers)
        print(f"  {name}: built in {engine.build_s:.1f} s")
        print(f"  {engine.memory_line(len(customers))}")
        built.append(engine)
    searches = {e.name: e.search for e in built}
    for e in built:
        searches.update(e.variants)
    reports = evaluate(searches, queries, WARM_UP)
    for engine in built:
        engine.close()
    print("  ranking digests: " + ", ".join(f"{n} {r.digest}" for n, r in reports.items()))
    return reports, built


def run_size(
    size: int, queries: int, seed: int, extended: bool, engines: list[str], prefix_all: bool
) -> tuple[dict[str, SearchReport], list[Engine]]:
    started = time.perf_counter()
    data = make_eval_set(size, queries, 0, seed, extended=extended)
    print(f"{size:,} customers, {len(data.queries)} queries generated in "
          f"{time.perf_counter() - started:.0f} s (seed {seed}, "
          f"{'extended' if extended else 'original'} set)")  # fmt: skip
    return measure_engines(data.customers, data.queries, engines, prefix_all)


def summary_rows(size: int, reports: dict[str, SearchReport], built: list[Engine]) -> list[str]:
    """One row per engine: the overall figures, build time, headline memory, speed vs pg."""
    engines = {e.name: e for e in built}
    pg = reports.get("pg_trgm")
    rows = []
    for name, report in reports.items():
        q = report.overall
        engine = engines.get(name) or engines["tantivy"]  # a variant shares tantivy's index
        headline = next(iter(engine.memory.values()))
        speed = f"{pg.overall.p50 / q.p50:.1f}x / {pg.overall.p99 / q.p99:.1f}x" if pg else ""
        rows.append(
            f"| {size:,} | {name} | {q.p50:.2f} | {q.p99:.2f} | {q.recall_at_1:.3f} | "
            f"{q.recall_at_5:.3f} | {q.mrr:.3f} | {engine.build_s:.1f} | {mib(headline)} "
            f"({headline / size:,.0f} B) | {speed} |"
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--queries", type=int, default=1700)
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--extended", action="store_true", help="the extended set (many scripts)")
    parser.add_argument("--pg", action="store_true", help="also PostgreSQL pg_trgm")
    parser.add_argument(
        "--tantivy-prefix-all",
        action="store_true",
        help="also tantivy with prefix matching on every word (type-ahead), same index",
    )
    parser.add_argument(
        "--by-note", action="store_true", help="script classes per locale / convention"
    )
    args = parser.parse_args()
    engines = ["prefstore", "tantivy", *(["pg_trgm"] if args.pg else [])]
    rows = []
    for size in args.sizes:
        reports, built = run_size(
            size, args.queries, args.seed, args.extended, engines, args.tantivy_prefix_all
        )
        print_side_by_side(reports, args.by_note)
        rows += summary_rows(size, reports, built)
        del reports, built
        gc.collect()
    print()
    print("| customers | engine | p50 ms | p99 ms | R@1 | R@5 | MRR | build s | memory "
          "(per customer) | faster than pg_trgm (p50 / p99) |")  # fmt: skip
    print("|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
