// Verifies the token responses sampled during a benchmark run, independently
// of the server that issued them: it reads the server's discovery document,
// fetches the JWKS it names, and checks every sampled body with `jose`.
//
// Usage: node verify.mjs --discovery URL --alg ALG [--min N] FILE...
//
// Each FILE holds one response body per line. Every body must be a JSON
// object with a string `access_token` and `token_type` "Bearer";
// the token must be a JWS with the expected `alg` that verifies against the
// JWKS, with `iss` equal to the discovery `issuer` and an `exp` in the future.
// Exit status 0 when all sampled bodies pass and there are at least N of them
// (default 1), 1 otherwise.
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';

import { createLocalJWKSet, jwtVerify } from 'jose';

const { values, positionals } = parseArgs({
  options: {
    discovery: { type: 'string' },
    alg: { type: 'string' },
    min: { type: 'string', default: '1' },
  },
  allowPositionals: true,
});

function fail(message) {
  console.error(`verify: ${message}`);
  process.exit(1);
}

if (!values.discovery || !values.alg) {
  fail('usage: node verify.mjs --discovery URL --alg ALG [--min N] FILE...');
}
const min = Number.parseInt(values.min, 10);

async function getJson(url) {
  const res = await fetch(url, { signal: AbortSignal.timeout(10_000) });
  if (!res.ok) fail(`GET ${url}: HTTP ${res.status}`);
  return res.json();
}

const discovery = await getJson(values.discovery);
if (typeof discovery.issuer !== 'string' || typeof discovery.jwks_uri !== 'string') {
  fail(`${values.discovery}: no issuer or jwks_uri`);
}
const jwks = await getJson(discovery.jwks_uri);
if (!Array.isArray(jwks.keys) || jwks.keys.length === 0) {
  fail(`${discovery.jwks_uri}: no keys`);
}
const keySet = createLocalJWKSet(jwks);

let checked = 0;
let failed = 0;
const errors = [];
const now = Math.floor(Date.now() / 1000);

for (const file of positionals) {
  const text = await readFile(file, 'utf8');
  for (const line of text.split('\n')) {
    if (line === '') continue;
    checked += 1;
    try {
      let body;
      try {
        body = JSON.parse(line);
      } catch {
        throw new Error('body is not JSON');
      }
      if (body === null || typeof body !== 'object') throw new Error('body is not a JSON object');
      if (typeof body.access_token !== 'string') throw new Error('no access_token string');
      if (body.token_type !== 'Bearer') {
        throw new Error(`token_type is ${JSON.stringify(body.token_type)}`);
      }
      const { payload, protectedHeader } = await jwtVerify(body.access_token, keySet, {
        algorithms: [values.alg],
        issuer: discovery.issuer,
      });
      if (protectedHeader.alg !== values.alg) throw new Error(`alg is ${protectedHeader.alg}`);
      if (typeof payload.exp !== 'number' || payload.exp <= now) throw new Error('exp is missing or past');
    } catch (err) {
      failed += 1;
      if (errors.length < 5) errors.push(`${file}: ${err.message}: ${line.slice(0, 200)}`);
    }
  }
}

if (failed > 0) {
  for (const e of errors) console.error(`verify: ${e}`);
  fail(`${failed} of ${checked} sampled responses failed verification`);
}
if (checked < min) {
  fail(`only ${checked} sampled responses, at least ${min} required`);
}
console.log(`verify: ${checked} sampled tokens verified (${values.alg}, issuer ${discovery.issuer})`);
