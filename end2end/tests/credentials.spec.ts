// An application's credential in its expanded row: an admin switches it
// from its secret to public keys (a pasted JWKS, then one PEM key), sees
// each key's RFC 7638 thumbprint, removes one, and the secret no longer
// gets a token; marks it "DPoP required"; a viewer sees the keys and no
// control, and the server refuses its writes.
import { generateKeyPairSync, KeyObject, randomUUID } from "node:crypto";
import { APIRequestContext } from "@playwright/test";
import { calculateJwkThumbprint, SignJWT } from "jose";
import { expect, test } from "./fixtures";
import { appRow, open, serverFn, signInToTenant, state, tokenStatus } from "./helpers";
import { viewerSession } from "./tokens";

/** The public JWK of a fresh key pair, with `kid`. */
function publicJwk(kind: "ec" | "ed25519", kid: string) {
  const { publicKey } =
    kind === "ec" ? generateKeyPairSync("ec", { namedCurve: "P-256" }) : generateKeyPairSync("ed25519");
  return { ...(publicKey.export({ format: "jwk" }) as Record<string, string>), kid };
}

function rsaPublicPem(): { pem: string; key: KeyObject } {
  const { publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  return { pem: publicKey.export({ type: "spki", format: "pem" }).toString(), key: publicKey };
}

/** The status of a client credentials request authenticated by an assertion signed with `key` (RFC 7523). */
async function assertionStatus(request: APIRequestContext, tenantId: string, clientId: string, key: KeyObject, kid: string) {
  const tokenUrl = `${state().baseURL}/oauth/v4/${tenantId}/token`;
  const assertion = await new SignJWT({})
    .setProtectedHeader({ alg: "ES256", kid })
    .setIssuer(clientId)
    .setSubject(clientId)
    .setAudience(tokenUrl)
    .setIssuedAt()
    .setExpirationTime("2m")
    .setJti(randomUUID())
    .sign(key);
  const reply = await request.post(tokenUrl, {
    form: {
      grant_type: "client_credentials",
      client_assertion_type: "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
      client_assertion: assertion,
    },
  });
  return reply.status();
}

async function freshTenant(page: import("@playwright/test").Page, label: string) {
  const tenant = await serverFn(page.request, "create_tenant", { name: `${label} ${Date.now() % 100000}` });
  expect(tenant.status).toBe(200);
  return tenant.body.tenant_id as string;
}

test("an admin switches an application to public keys, sees their thumbprints and removes one", async ({ page, request }) => {
  const { email, password } = state();
  await signInToTenant(page, email, password);
  const tenantId = await freshTenant(page, "Credentials");
  const app = await serverFn(page.request, "create_application", { tenant_id: tenantId, name: "keyed-worker" });
  expect(app.status).toBe(200);
  const { client_id: clientId, secret } = app.body;
  expect(await tokenStatus(request, tenantId, clientId, secret)).toBe(200);

  await open(page, `/t/${tenantId}/applications`);
  const row = appRow(page, "keyed-worker");
  await row.getByTestId("app-toggle").click();
  const details = row.getByTestId("app-details");
  await expect(details.getByTestId("credential-type")).toHaveText("Secret");
  await expect(details.getByTestId("secret-value")).toBeVisible();

  // A pasted JWKS of two keys; the dialog warns that the secret ends.
  const ecPair = generateKeyPairSync("ec", { namedCurve: "P-256" });
  const ec = { ...(ecPair.publicKey.export({ format: "jwk" }) as Record<string, string>), kid: "ec-1" };
  const ed = publicJwk("ed25519", "ed-1");
  await details.getByTestId("use-keys").click();
  const dialog = page.getByRole("dialog", { name: "Use public keys for keyed-worker?" });
  await expect(dialog.getByTestId("credential-warning")).toContainText("client secret stops working");
  // Nothing pasted: refused in place.
  await dialog.getByTestId("confirm-use-keys").click();
  await expect(dialog.getByRole("alert")).toHaveText("Paste the public keys.");
  // A private key: refused by the server, shown in place.
  const { privateKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
  const privateJwk = { ...(privateKey.export({ format: "jwk" }) as Record<string, string>), kid: "private" };
  await dialog.getByLabel("JWKS", { exact: true }).fill(JSON.stringify({ keys: [privateJwk] }));
  await dialog.getByTestId("confirm-use-keys").click();
  await expect(dialog.getByRole("alert")).toBeVisible();
  await expect(dialog).toBeVisible();
  expect(await tokenStatus(request, tenantId, clientId, secret)).toBe(200);

  await dialog.getByLabel("JWKS", { exact: true }).fill(JSON.stringify({ keys: [ec, ed] }));
  await dialog.getByTestId("confirm-use-keys").click();
  await expect(dialog).toBeHidden();
  await expect(page.getByTestId("notice")).toContainText("keyed-worker now authenticates with 2 public keys; it has no secret.");
  await expect(details.getByTestId("credential-type")).toHaveText("Public keys");
  const keys = details.getByTestId("client-key");
  await expect(keys).toHaveCount(2);
  for (const jwk of [ec, ed]) {
    const key = details.locator(`[data-testid=client-key][data-kid="${jwk.kid}"]`);
    const thumbprint = await calculateJwkThumbprint(jwk as any, "sha256");
    await expect(key.getByTestId("client-key-thumbprint")).toHaveAttribute("data-thumbprint", thumbprint);
    await expect(key.getByTestId("client-key-thumbprint")).toHaveAttribute("title", thumbprint);
    await expect(key.getByTestId("client-key-thumbprint")).toHaveText(`${thumbprint.slice(0, 8)}…${thumbprint.slice(-6)}`);
  }
  await expect(details.locator("[data-kid=ec-1]").getByTestId("client-key-kty")).toHaveText("EC");
  await expect(details.locator("[data-kid=ed-1]").getByTestId("client-key-kty")).toHaveText("OKP");

  // The secret is gone: from the row and from the token endpoint.
  await expect(details.getByTestId("secret-value")).toHaveCount(0);
  await expect(details.getByTestId("reveal-secret")).toHaveCount(0);
  await expect(details.getByTestId("rotate-secret")).toHaveCount(0);
  expect(await tokenStatus(request, tenantId, clientId, secret)).toBe(401);
  // The key does: an assertion it signs gets a token.
  expect(await assertionStatus(request, tenantId, clientId, ecPair.privateKey, "ec-1")).toBe(200);
  expect((await serverFn(page.request, "reveal_secret", { tenant_id: tenantId, client_id: clientId })).status).not.toBe(200);

  // Remove one key, after a confirmation naming it.
  await details.locator("[data-kid=ed-1]").getByTestId("remove-client-key").click();
  const remove = page.getByRole("dialog", { name: "Remove key ed-1?" });
  await expect(remove).toContainText("other keys keep working");
  await remove.getByTestId("confirm-remove-client-key").click();
  await expect(remove).toBeHidden();
  await expect(keys).toHaveCount(1);
  await expect(keys.first()).toHaveAttribute("data-kid", "ec-1");
  const listed = await serverFn(page.request, "client_keys", { tenant_id: tenantId, client_id: clientId });
  expect(listed.status).toBe(200);
  expect(listed.body.keys.map((key: { kid: string }) => key.kid)).toEqual(["ec-1"]);
  expect(await assertionStatus(request, tenantId, clientId, ecPair.privateKey, "ec-1")).toBe(200);

  // Replace the keys with one PEM public key.
  await details.getByTestId("use-keys").click();
  const replace = page.getByRole("dialog", { name: "Replace the keys of keyed-worker?" });
  await expect(replace.getByTestId("credential-warning")).toContainText("current keys are replaced");
  await replace.getByLabel("Paste a PEM public key").check();
  const { pem, key } = rsaPublicPem();
  await replace.getByLabel("PEM public key", { exact: true }).fill(pem);
  await replace.getByTestId("confirm-use-keys").click();
  await expect(replace).toBeHidden();
  await expect(keys).toHaveCount(1);
  await expect(keys.first().getByTestId("client-key-kty")).toHaveText("RSA");
  const rsaThumbprint = await calculateJwkThumbprint(key.export({ format: "jwk" }) as any, "sha256");
  await expect(keys.first().getByTestId("client-key-thumbprint")).toHaveAttribute("data-thumbprint", rsaThumbprint);
  // The replaced key no longer works.
  expect(await assertionStatus(request, tenantId, clientId, ecPair.privateKey, "ec-1")).toBe(401);

  // After a reload the row still says so.
  await open(page, `/t/${tenantId}/applications`);
  await appRow(page, "keyed-worker").getByTestId("app-toggle").click();
  await expect(details.getByTestId("credential-type")).toHaveText("Public keys");
  await expect(details.getByTestId("client-key")).toHaveCount(1);
});

test("an admin marks an application DPoP required, and a viewer sees keys and no control", async ({ page, browser }) => {
  const { email, password } = state();
  await signInToTenant(page, email, password);
  const tenantId = await freshTenant(page, "DPoP row");
  const app = await serverFn(page.request, "create_application", { tenant_id: tenantId, name: "bound-worker" });
  expect(app.status).toBe(200);
  const clientId: string = app.body.client_id;
  const jwk = publicJwk("ec", "viewer-seen");
  const keyed = await serverFn(page.request, "set_client_keys", {
    tenant_id: tenantId,
    client_id: clientId,
    source: "jwks",
    value: JSON.stringify({ keys: [jwk] }),
  });
  expect(keyed.status).toBe(200);

  await open(page, `/t/${tenantId}/applications`);
  const row = appRow(page, "bound-worker");
  await row.getByTestId("app-toggle").click();
  const details = row.getByTestId("app-details");
  const dpop = details.getByTestId("dpop-required");
  await expect(dpop).toHaveAttribute("aria-checked", "false");
  await dpop.click();
  await expect(dpop).toHaveAttribute("aria-checked", "true");
  await expect(page.getByTestId("notice")).toContainText("bound-worker now needs DPoP-bound tokens");
  const fresh = await serverFn(page.request, "get_application", { tenant_id: tenantId, client_id: clientId });
  expect(fresh.body.dpop_required).toBe(true);

  // A viewer: the type, the key and its thumbprint, and no control.
  const viewer = await viewerSession(browser, tenantId, "credentials");
  const viewerRow = appRow(viewer.page, "bound-worker");
  await viewerRow.getByTestId("app-toggle").click();
  const seen = viewerRow.getByTestId("app-details");
  await expect(seen.getByTestId("credential-type")).toHaveText("Public keys");
  const thumbprint = await calculateJwkThumbprint(jwk as any, "sha256");
  await expect(seen.getByTestId("client-key-thumbprint")).toHaveAttribute("data-thumbprint", thumbprint);
  await expect(seen.getByTestId("dpop-required")).toHaveText("Required");
  for (const control of ["use-keys", "add-federated", "remove-client-key", "remove-federated"]) {
    await expect(seen.getByTestId(control), control).toHaveCount(0);
  }
  await expect(seen.getByRole("switch")).toHaveCount(0);

  // Reading is allowed; every write answers 403 and changes nothing.
  const read = await serverFn(viewer.page.request, "client_keys", { tenant_id: tenantId, client_id: clientId });
  expect(read.status).toBe(200);
  const writes: [string, Record<string, string>][] = [
    ["set_client_keys", { source: "jwks", value: JSON.stringify({ keys: [publicJwk("ec", "x")] }) }],
    ["delete_client_key", { kid: "viewer-seen" }],
    ["set_application_dpop_required", { required: "false" }],
    ["create_federated_credential", { issuer_id: "x", subject: "y" }],
    ["delete_federated_credential", { id: "x" }],
  ];
  for (const [name, args] of writes) {
    const refused = await serverFn(viewer.page.request, name, { tenant_id: tenantId, client_id: clientId, ...args });
    expect(refused.status, name).toBe(403);
  }
  const after = await serverFn(page.request, "client_keys", { tenant_id: tenantId, client_id: clientId });
  expect(after.body.keys.map((key: { kid: string }) => key.kid)).toEqual(["viewer-seen"]);
  expect((await serverFn(page.request, "get_application", { tenant_id: tenantId, client_id: clientId })).body.dpop_required).toBe(true);
  expect(viewer.errors).toEqual([]);
  await viewer.context.close();
});
