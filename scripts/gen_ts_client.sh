#!/usr/bin/env bash
# Generate a TypeScript client for the prefstore API with @hey-api/openapi-ts and check that
# it, and an example that uses it, compile under `tsc --strict` (docs/INTEGRATION.md).
#
#   scripts/gen_ts_client.sh [OUT_DIR]          # default OUT_DIR: ./prefstore-ts-client
#   PREFSTORE_URL=https://prefstore.internal scripts/gen_ts_client.sh
#
# The OpenAPI document is this checkout's (no server needed), or the running service's at
# $PREFSTORE_URL/schema/openapi.json. Needs Node.js >= 20.19 and npm (the npm registry).
# Not part of the test suite: CI does not download from npm.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="$(mkdir -p "${1:-prefstore-ts-client}" && cd "${1:-prefstore-ts-client}" && pwd)"
OPENAPI_TS_VERSION="0.95.0" # the last release that runs on Node 20 (0.96 needs Node 22)
TYPESCRIPT_VERSION="5.9.3"

if [ -n "${PREFSTORE_URL:-}" ]; then
    curl -fsS "${PREFSTORE_URL%/}/schema/openapi.json" -o "$out/openapi.json"
else
    # The document the app serves, built without starting it (no Redis needed).
    "$root/.venv/bin/python" - "$out/openapi.json" <<'EOF'
import json
import sys

from prefstore.config import Settings
from prefstore.http.app import create_app

document = create_app(Settings.from_env()).openapi_schema.to_schema()
with open(sys.argv[1], "w", encoding="utf-8") as out:
    json.dump(document, out, indent=2)
EOF
fi

cd "$out"
[ -f package.json ] || npm init -y >/dev/null
npm install --save-exact --no-audit --no-fund \
    "@hey-api/openapi-ts@$OPENAPI_TS_VERSION" "typescript@$TYPESCRIPT_VERSION" >/dev/null
npx openapi-ts --input openapi.json --output src/client --client @hey-api/client-fetch

cat > tsconfig.json <<'EOF'
{
  "compilerOptions": {
    "target": "ES2022",
    "module": "ESNext",
    "moduleResolution": "Bundler",
    "lib": ["ES2022", "DOM", "DOM.Iterable"],
    "strict": true,
    "noEmit": true
  },
  "include": ["src"]
}
EOF
cat > src/example.ts <<'EOF'
// Look a guest up by email, add a note with the card's ETag, and read typed errors.
import { client } from './client/client.gen';
import { addNote, getCard, lookup } from './client/sdk.gen';
import type { Card, Problem } from './client/types.gen';

export async function greet(baseUrl: string, key: string, email: string): Promise<string> {
  client.setConfig({ baseUrl, auth: () => key });

  const found = await lookup({ query: { identifier: { email } } });
  if (found.error) {
    const problem: Problem = found.error; // application/problem+json, typed
    return `${problem.status} ${problem.error}: ${problem.detail}`;
  }
  const card: Card = found.data;
  const etag = found.response.headers.get('etag') ?? undefined;

  const noted = await addNote({
    path: { customer_id: card.id },
    body: { text: 'prefers the window table' },
    headers: { 'If-Match': etag }, // 412 if the card changed since the lookup
  });
  if (noted.error) {
    return `${noted.error.status} ${noted.error.field ?? ''}: ${noted.error.reason ?? noted.error.detail}`;
  }
  const allergies = noted.data.allergies.map((a) => `${a.label} (${a.severity})`).join(', ');

  const missing = await getCard({ path: { customer_id: 'nobody' } });
  const notFound = missing.error ? missing.error.error : 'found';
  return `${card.name}: ${allergies || 'no allergies'}; nobody: ${notFound}`;
}
EOF
npx tsc --strict -p tsconfig.json
echo "TypeScript client in $out/src/client: compiles under tsc --strict"
