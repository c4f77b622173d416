"""msgspec models, shared by every layer. Each family has its module: `fields` (bounded
scalars, severities, scopes), `inputs` (what clients send: unknown fields rejected, every
string and list bounded, no server-owned field), `records` (what is stored: every field has a
default, so a record written by an older version still decodes), `views` (what the API
answers about a customer) and `results` (import, search, recall, cart check answers)."""
