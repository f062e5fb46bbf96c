// Applications without a shared secret, driven by client libraries Clavis did
// not write: openid-client with `PrivateKeyJwt` (RFC 7523 §2.2) and with a
// DPoP handle (RFC 9449, including its automatic retry on `use_dpop_nonce`),
// and Python's authlib with `private_key_jwt`. Keys are made with `jose`,
// registered through the management API, and every issued token is verified
// with `jose` against the tenant's published JWKS.
import { APIRequestContext, expect, test } from "@playwright/test";
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { randomUUID } from "node:crypto";
import {
  calculateJwkThumbprint,
  createRemoteJWKSet,
  exportJWK,
  exportPKCS8,
  generateKeyPair,
  JWK,
  jwtVerify,
  SignJWT,
} from "jose";
import * as oidc from "openid-client";
import { cli } from "./helpers";

const PYTHON = resolve(__dirname, "..", "..", ".venv-e2e", "bin", "python");
const AUTHLIB_SCRIPT = resolve(__dirname, "..", "python", "authlib_private_key_jwt.py");

function basic(clientId: string, secret: string): string {
  return `Basic ${Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(secret)}`).toString("base64")}`;
}

interface Tenant {
  tenantId: string;
  oAuthServerUrl: string;
}

/** A tenant and a management token for it (from an automation application the operator CLI made). */
async function setUp(request: APIRequestContext, label: string) {
  const tenant: Tenant = cli(["tenant", "create", "--name", `keys-${label}`]);
  const admin = cli(["app", "create", "--tenant", tenant.tenantId, "--name", "provisioner", "--management", "write"]);
  const reply = await request.post(`${tenant.oAuthServerUrl}/token`, {
    headers: { authorization: basic(admin.clientId, admin.secret) },
    form: { grant_type: "client_credentials", audience: admin.managementUrl },
  });
  expect(reply.status(), await reply.text()).toBe(200);
  const token = (await reply.json()).access_token as string;
  const management = admin.managementUrl as string;
  const api = { authorization: `Bearer ${token}` };
  return { tenant, management, api };
}

/** An application made through the REST API; it starts with a client secret. */
async function createApplication(request: APIRequestContext, management: string, api: Record<string, string>, name: string) {
  const reply = await request.post(`${management}/applications`, { headers: api, data: { name } });
  expect(reply.status(), await reply.text()).toBe(201);
  const app = await reply.json();
  expect(typeof app.clientId).toBe("string");
  expect(typeof app.secret).toBe("string");
  return app as { clientId: string; secret: string };
}

/** Switches the application to public keys (`PUT …/jwks`) and checks it reads them back. */
async function registerKeys(
  request: APIRequestContext,
  management: string,
  api: Record<string, string>,
  clientId: string,
  keys: JWK[],
) {
  const put = await request.put(`${management}/applications/${clientId}/jwks`, { headers: api, data: { keys } });
  expect(put.status(), await put.text()).toBe(200);
  const get = await request.get(`${management}/applications/${clientId}/jwks`, { headers: api });
  expect(get.status(), await get.text()).toBe(200);
  const stored = (await get.json()).keys as JWK[];
  expect(stored.map((key) => key.kty)).toEqual(keys.map((key) => key.kty));
  for (const key of stored) {
    // Public members only come back.
    for (const member of ["d", "p", "q", "dp", "dq", "qi"]) expect(key).not.toHaveProperty(member);
  }
}

/** The client-credentials status with the application's old secret (HTTP Basic and form body). */
async function secretStatuses(request: APIRequestContext, tenant: Tenant, clientId: string, secret: string) {
  const viaBasic = await request.post(`${tenant.oAuthServerUrl}/token`, {
    headers: { authorization: basic(clientId, secret) },
    form: { grant_type: "client_credentials" },
  });
  const viaForm = await request.post(`${tenant.oAuthServerUrl}/token`, {
    form: { grant_type: "client_credentials", client_id: clientId, client_secret: secret },
  });
  return {
    basic: { status: viaBasic.status(), body: await viaBasic.json() },
    form: { status: viaForm.status(), body: await viaForm.json() },
  };
}

/** Verifies a Clavis access token with jose, from discovery's issuer and JWKS alone. */
async function verifyToken(config: oidc.Configuration, token: string, clientId: string) {
  const metadata = config.serverMetadata();
  const jwks = createRemoteJWKSet(new URL(metadata.jwks_uri!));
  const { payload } = await jwtVerify(token, jwks, {
    issuer: metadata.issuer,
    audience: clientId,
    subject: clientId,
    typ: "at+jwt",
  });
  return payload;
}

/** Every answer the token endpoint gave, as openid-client received it. */
function recordTokenResponses(config: oidc.Configuration) {
  const answers: { status: number; body: any; nonce: string | null; sentProof: boolean }[] = [];
  const tokenEndpoint = config.serverMetadata().token_endpoint;
  config[oidc.customFetch] = async (url, options) => {
    const response = await fetch(url, options as RequestInit);
    if (url === tokenEndpoint) {
      const headers = new Headers(options.headers);
      answers.push({
        status: response.status,
        body: await response.clone().json(),
        nonce: response.headers.get("dpop-nonce"),
        sentProof: headers.has("dpop"),
      });
    }
    return response;
  };
  return answers;
}

async function discover(tenant: Tenant, clientId: string, auth: oidc.ClientAuth) {
  const config = await oidc.discovery(new URL(tenant.oAuthServerUrl), clientId, undefined, auth, {
    execute: [oidc.allowInsecureRequests],
  });
  const metadata = config.serverMetadata();
  expect(metadata.token_endpoint_auth_methods_supported).toContain("private_key_jwt");
  return config;
}

// ES256 sent as a bare CryptoKey (no kid in the assertion, and none in the
// registered JWK); PS256 with a kid and an alg on the key.
for (const { alg, kid } of [
  { alg: "ES256", kid: undefined },
  { alg: "PS256", kid: "ci-signer-2026" },
]) {
  test(`openid-client authenticates with PrivateKeyJwt (${alg}) from discovery alone; the old secret stops working`, async ({ request }) => {
    const { tenant, management, api } = await setUp(request, `oidc-${alg}`);
    const app = await createApplication(request, management, api, `reporter-${alg}`);
    expect((await secretStatuses(request, tenant, app.clientId, app.secret)).basic.status).toBe(200);

    const { publicKey, privateKey } = await generateKeyPair(alg);
    const jwk = await exportJWK(publicKey);
    await registerKeys(request, management, api, app.clientId, [kid ? { ...jwk, kid, alg, use: "sig" } : jwk]);

    // The application has no secret any more, however it is sent.
    const old = await secretStatuses(request, tenant, app.clientId, app.secret);
    expect(old.basic.status).toBe(401);
    expect(old.basic.body.error).toBe("invalid_client");
    expect(old.form.status).toBe(401);
    expect(old.form.body.error).toBe("invalid_client");

    const config = await discover(tenant, app.clientId, oidc.PrivateKeyJwt(kid ? { key: privateKey, kid } : privateKey));
    const tokens = await oidc.clientCredentialsGrant(config);
    expect(tokens.token_type).toBe("bearer");
    const payload = await verifyToken(config, tokens.access_token, app.clientId);
    expect(payload.cnf).toBeUndefined();

    // Each request signs a fresh assertion (a new jti): a second one is no replay.
    const again = await oidc.clientCredentialsGrant(config);
    expect(again.access_token).not.toBe(tokens.access_token);
    await verifyToken(config, again.access_token, app.clientId);
  });
}

test("openid-client authenticates with keys the application publishes at its own jwks_uri (RS256)", async ({ request }) => {
  const { tenant, management, api } = await setUp(request, "jwks-uri");
  const app = await createApplication(request, management, api, "publisher");
  const { publicKey, privateKey } = await generateKeyPair("RS256");
  const kid = "published-1";
  const published = { keys: [{ ...(await exportJWK(publicKey)), kid, alg: "RS256", use: "sig" }] };
  let fetched = 0;
  // The application's own key endpoint, on loopback (the one place plain http is allowed).
  const keyServer = createServer((req, res) => {
    fetched += 1;
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify(published));
  });
  await new Promise<void>((done) => keyServer.listen(0, "127.0.0.1", done));
  try {
    const jwksUri = `http://127.0.0.1:${(keyServer.address() as AddressInfo).port}/jwks.json`;
    const put = await request.put(`${management}/applications/${app.clientId}/jwks`, { headers: api, data: { jwks_uri: jwksUri } });
    expect(put.status(), await put.text()).toBe(200);
    expect(fetched).toBeGreaterThan(0);
    const get = await request.get(`${management}/applications/${app.clientId}/jwks`, { headers: api });
    expect((await get.json()).jwks_uri).toBe(jwksUri);

    const config = await discover(tenant, app.clientId, oidc.PrivateKeyJwt({ key: privateKey, kid }));
    const tokens = await oidc.clientCredentialsGrant(config);
    await verifyToken(config, tokens.access_token, app.clientId);
    expect((await secretStatuses(request, tenant, app.clientId, app.secret)).basic.status).toBe(401);
  } finally {
    // Clavis's fetcher may keep its connection open for reuse.
    keyServer.closeAllConnections();
    await new Promise((done) => keyServer.close(done));
  }
});

test("openid-client's DPoP handle gets DPoP-bound tokens, and retries by itself with the tenant's nonce", async ({ request }) => {
  const { tenant, management, api } = await setUp(request, "dpop");
  const app = await createApplication(request, management, api, "dpop-worker");
  const client = await generateKeyPair("ES256");
  await registerKeys(request, management, api, app.clientId, [await exportJWK(client.publicKey)]);
  const config = await discover(tenant, app.clientId, oidc.PrivateKeyJwt(client.privateKey));
  expect(config.serverMetadata().dpop_signing_alg_values_supported).toContain("ES256");
  const answers = recordTokenResponses(config);

  // Without a nonce requirement: one request, a DPoP token bound to the proof key.
  const first = await generateKeyPair("ES256", { extractable: true });
  const tokens = await oidc.clientCredentialsGrant(config, {}, { DPoP: oidc.getDPoPHandle(config, first) });
  expect(answers.map((a) => [a.status, a.sentProof])).toEqual([[200, true]]);
  expect(answers[0].body.token_type).toBe("DPoP");
  expect(tokens.token_type).toBe("dpop");
  const payload = await verifyToken(config, tokens.access_token, app.clientId);
  const firstJkt = await calculateJwkThumbprint(await exportJWK(first.publicKey));
  expect((payload.cnf as { jkt?: string } | undefined)?.jkt).toBe(firstJkt);

  // The tenant now requires server nonces.
  const set = await request.put(`${management}/config/dpop`, { headers: api, data: { nonceRequired: true } });
  expect(set.status(), await set.text()).toBe(200);
  expect((await set.json()).nonceRequired).toBe(true);
  const read = await request.get(`${management}/config/dpop`, { headers: api });
  expect((await read.json()).nonceRequired).toBe(true);

  // A new handle knows no nonce: the first proof is refused with use_dpop_nonce
  // and a DPoP-Nonce header, and openid-client retries once with it.
  answers.length = 0;
  const second = await generateKeyPair("ES256", { extractable: true });
  const handle = oidc.getDPoPHandle(config, second);
  const bound = await oidc.clientCredentialsGrant(config, {}, { DPoP: handle });
  expect(answers.map((a) => a.status)).toEqual([400, 200]);
  expect(answers[0].body.error).toBe("use_dpop_nonce");
  expect(answers[0].nonce).toBeTruthy();
  expect(answers[1].body.token_type).toBe("DPoP");
  const secondJkt = await calculateJwkThumbprint(await exportJWK(second.publicKey));
  expect(secondJkt).not.toBe(firstJkt);
  const boundPayload = await verifyToken(config, bound.access_token, app.clientId);
  expect((boundPayload.cnf as { jkt?: string } | undefined)?.jkt).toBe(secondJkt);

  // The handle keeps the nonce the success carried: the next request needs no retry.
  answers.length = 0;
  const next = await oidc.clientCredentialsGrant(config, {}, { DPoP: handle });
  expect(answers.map((a) => a.status)).toEqual([200]);
  const nextPayload = await verifyToken(config, next.access_token, app.clientId);
  expect((nextPayload.cnf as { jkt?: string } | undefined)?.jkt).toBe(secondJkt);

  const off = await request.put(`${management}/config/dpop`, { headers: api, data: { nonceRequired: false } });
  expect(off.status()).toBe(200);
  expect((await off.json()).nonceRequired).toBe(false);
});

test("a replayed client assertion is refused with 401 invalid_client", async ({ request }) => {
  const { tenant, management, api } = await setUp(request, "replay");
  const app = await createApplication(request, management, api, "replayed");
  const { publicKey, privateKey } = await generateKeyPair("ES256");
  await registerKeys(request, management, api, app.clientId, [await exportJWK(publicKey)]);

  const tokenEndpoint = `${tenant.oAuthServerUrl}/token`;
  const now = Math.floor(Date.now() / 1000);
  const assertion = await new SignJWT({ jti: randomUUID() })
    .setProtectedHeader({ alg: "ES256" })
    .setIssuer(app.clientId)
    .setSubject(app.clientId)
    .setAudience(tokenEndpoint)
    .setIssuedAt(now)
    .setExpirationTime(now + 120)
    .sign(privateKey);
  const send = () =>
    fetch(tokenEndpoint, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({
        grant_type: "client_credentials",
        client_assertion_type: "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        client_assertion: assertion,
      }),
    });

  const first = await send();
  const firstBody = await first.json();
  expect(first.status, JSON.stringify(firstBody)).toBe(200);
  expect(firstBody.token_type).toBe("Bearer");

  const replay = await send();
  const replayBody = await replay.json();
  expect(replay.status, JSON.stringify(replayBody)).toBe(401);
  expect(replayBody.error).toBe("invalid_client");
  expect(replayBody.error_description).toMatch(/already used|replay/i);
  expect(replayBody).not.toHaveProperty("access_token");
});

/** Runs the authlib client; returns one result per token request (a token response or an error). */
function authlib(args: string[]): any[] {
  if (!existsSync(PYTHON)) {
    throw new Error(`${PYTHON} is missing: run scripts/setup.sh --e2e (it installs authlib, pinned, into .venv-e2e/)`);
  }
  const out = execFileSync(PYTHON, [AUTHLIB_SCRIPT, ...args], { encoding: "utf8", timeout: 30_000 });
  return JSON.parse(out);
}

test("authlib's private_key_jwt (RS256, and ES256 with a kid) gets tokens that verify with jose", async ({ request }) => {
  const { tenant, management, api } = await setUp(request, "authlib");
  const discovery = await (await request.get(`${tenant.oAuthServerUrl}/.well-known/openid-configuration`)).json();
  const jwks = createRemoteJWKSet(new URL(discovery.jwks_uri));
  const dir = mkdtempSync(join(tmpdir(), "clavis-authlib-"));
  try {
    for (const { alg, kid } of [
      { alg: "RS256", kid: undefined },
      { alg: "ES256", kid: "python-worker-1" },
    ]) {
      const app = await createApplication(request, management, api, `python-${alg}`);
      const { publicKey, privateKey } = await generateKeyPair(alg, { extractable: true });
      const jwk = await exportJWK(publicKey);
      await registerKeys(request, management, api, app.clientId, [kid ? { ...jwk, kid } : jwk]);
      const keyFile = join(dir, `${alg}.pem`);
      writeFileSync(keyFile, await exportPKCS8(privateKey), { mode: 0o600 });
      const common = ["--client-id", app.clientId, "--key-file", keyFile, "--token-url", discovery.token_endpoint, "--alg", alg];
      const withKid = kid ? ["--kid", kid] : [];

      // Two requests in a row: authlib signs a fresh assertion (new jti) for each.
      const results = authlib([...common, ...withKid, "--lifetime", "120", "--requests", "2"]);
      expect(results).toHaveLength(2);
      for (const result of results) {
        expect(result.error, JSON.stringify(result)).toBeUndefined();
        expect(result.token_type).toBe("Bearer");
        const { payload } = await jwtVerify(result.access_token, jwks, {
          issuer: discovery.issuer,
          audience: app.clientId,
          subject: app.clientId,
          typ: "at+jwt",
        });
        expect(payload.scope).toContain("appid_default");
      }
      expect(results[0].access_token).not.toBe(results[1].access_token);

      // authlib's default assertion lives an hour: longer than the five minutes Clavis allows.
      const [refused] = authlib([...common, ...withKid]);
      expect(refused.error).toBe("invalid_client");
      expect(refused.error_description).toMatch(/too long|5 minutes/i);

      // And the secret the application was created with is gone.
      expect((await secretStatuses(request, tenant, app.clientId, app.secret)).basic.status).toBe(401);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
