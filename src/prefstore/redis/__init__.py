"""The Redis adapter: connection and error translation, the pipelined read connection, the
storage layout (key names and encodings), batch sends, and the embedded server. It knows
the models, never the domain. The Lua scripts live with their only users
(`customers/reader.py`, `transfer/writer.py`), taking every key name from the key space."""
