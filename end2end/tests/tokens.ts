// Tokens for the kill-switch tests: take one at the token endpoint, ask
// introspection about it, read the tenant's published keys.
import { APIRequestContext, Browser, expect } from "@playwright/test";
import { cli, signInToTenant, state } from "./helpers";
import { watchErrors } from "./fixtures";

function basic(clientId: string, secret: string): string {
  return `Basic ${Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(secret)}`).toString("base64")}`;
}

/** A client credentials token for the application itself. */
export async function takeToken(request: APIRequestContext, tenantId: string, clientId: string, secret: string) {
  const reply = await request.post(`${state().baseURL}/oauth/v4/${tenantId}/token`, {
    headers: { Authorization: basic(clientId, secret) },
    form: { grant_type: "client_credentials" },
  });
  expect(reply.status()).toBe(200);
  return (await reply.json()).access_token as string;
}

/** Whether introspection (asked by the token's own client) says the token is active. */
export async function isActive(
  request: APIRequestContext,
  tenantId: string,
  clientId: string,
  secret: string,
  token: string,
): Promise<boolean> {
  const reply = await request.post(`${state().baseURL}/oauth/v4/${tenantId}/introspect`, {
    headers: { Authorization: basic(clientId, secret) },
    form: { token },
  });
  expect(reply.status()).toBe(200);
  return (await reply.json()).active === true;
}

/** The key IDs the tenant publishes now. */
export async function publishedKids(request: APIRequestContext, tenantId: string): Promise<string[]> {
  const reply = await request.get(`${state().baseURL}/oauth/v4/${tenantId}/publickeys`);
  expect(reply.status()).toBe(200);
  return ((await reply.json()).keys as { kid: string }[]).map((key) => key.kid);
}

/** The `kid` in a JWT's header. */
export function kidOf(token: string): string {
  return JSON.parse(Buffer.from(token.split(".")[0], "base64url").toString("utf8")).kid;
}

/** A viewer of `tenantId` (added with the operator CLI), signed in in a browser context of its own. */
export async function viewerSession(browser: Browser, tenantId: string, label: string) {
  const email = `${label}-viewer-${Date.now()}@example.com`;
  const password = "quiet-harbor-lantern-42";
  cli(["member", "add", "--tenant", tenantId, "--email", email, "--role", "viewer"], { CLAVIS_MEMBER_PASSWORD: password });
  const context = await browser.newContext({ baseURL: state().baseURL });
  const page = await context.newPage();
  const errors = watchErrors(page);
  expect(await signInToTenant(page, email, password)).toBe(tenantId);
  return { context, page, errors };
}
