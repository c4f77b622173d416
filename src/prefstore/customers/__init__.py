"""Domain: customers. The store (every write, one optimistic transaction per customer), the
record rules (`rules/`), the pre-rendered cards and the lookup reader, identifiers, the
change feed, API keys and the caches over them, and the staff shorthand."""
