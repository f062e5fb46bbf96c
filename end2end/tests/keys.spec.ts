// The Signing keys page: an admin rotates the key (choosing the algorithm)
// and revokes keys, and the tenant's JWKS and introspection follow; a
// viewer sees the keys and no button, and the server refuses its writes.
import { expect, test } from "./fixtures";
import { open, serverFn, signInToTenant, state } from "./helpers";
import { isActive, kidOf, publishedKids, takeToken, viewerSession } from "./tokens";

test("an admin rotates and revokes signing keys, and the JWKS changes accordingly", async ({ page, request }) => {
  const { email, password } = state();
  await signInToTenant(page, email, password);
  const tenant = await serverFn(page.request, "create_tenant", { name: `Keys ${Date.now() % 100000}` });
  expect(tenant.status).toBe(200);
  const tenantId: string = tenant.body.tenant_id;
  const app = await serverFn(page.request, "create_application", { tenant_id: tenantId, name: "keys-client" });
  expect(app.status).toBe(200);
  const { client_id: clientId, secret } = app.body;

  await open(page, `/t/${tenantId}/keys`);
  const nav = page.getByRole("navigation", { name: "Sections" }).getByRole("link", { name: "Signing keys" });
  await expect(nav).toHaveAttribute("aria-current", "page");
  const rows = page.getByTestId("key-row");
  await expect(rows).toHaveCount(1);
  const original = (await rows.first().getAttribute("data-kid"))!;
  await expect(rows.first().getByTestId("key-state")).toHaveText("active");
  await expect(rows.first().getByTestId("key-alg")).toHaveText("RS256");
  expect(await publishedKids(request, tenantId)).toEqual([original]);
  const oldToken = await takeToken(request, tenantId, clientId, secret);
  expect(kidOf(oldToken)).toBe(original);

  // Rotate to ES256: the new key signs, the old one stays published.
  await page.getByTestId("rotate-key").click();
  const rotate = page.getByRole("dialog", { name: "Rotate the signing key?" });
  await expect(rotate.getByLabel("Algorithm")).toHaveValue("RS256");
  await rotate.getByLabel("Algorithm").selectOption("ES256");
  await rotate.getByTestId("confirm-rotate-key").click();
  await expect(rotate).toBeHidden();
  await expect(page.getByTestId("notice")).toContainText("(ES256) now signs new tokens.");
  await expect(rows).toHaveCount(2);
  const rotated = (await rows.first().getAttribute("data-kid"))!;
  expect(rotated).not.toBe(original);
  await expect(rows.first().getByTestId("key-state")).toHaveText("active");
  await expect(rows.first().getByTestId("key-alg")).toHaveText("ES256");
  const previousRow = page.locator(`[data-testid=key-row][data-kid="${original}"]`);
  await expect(previousRow.getByTestId("key-state")).toHaveText("previous");
  expect((await publishedKids(request, tenantId)).sort()).toEqual([original, rotated].sort());
  await expect.poll(async () => kidOf(await takeToken(request, tenantId, clientId, secret)), { timeout: 10_000 }).toBe(rotated);
  expect(await isActive(request, tenantId, clientId, secret, oldToken)).toBe(true);

  // Revoke the previous key: it leaves the JWKS and its token fails.
  await previousRow.getByRole("button", { name: `Revoke key ${original}` }).click();
  const revoke = page.getByRole("dialog", { name: `Revoke key ${original}?` });
  await expect(revoke).toContainText("leaves the published keys (JWKS) now");
  await expect(revoke.getByTestId("revoke-active-note")).toHaveCount(0);
  await revoke.getByTestId("confirm-revoke-key").click();
  await expect(revoke).toBeHidden();
  await expect(page.getByTestId("notice")).toContainText(`Revoked key ${original}. Key ${rotated} signs new tokens.`);
  await expect(previousRow.getByTestId("key-state")).toHaveText("revoked");
  await expect(previousRow.getByTestId("revoke-key")).toHaveCount(0);
  expect(await publishedKids(request, tenantId)).toEqual([rotated]);
  expect(await isActive(request, tenantId, clientId, secret, oldToken)).toBe(false);

  // Revoking the active key puts a new one (same algorithm) in its place.
  const newToken = await takeToken(request, tenantId, clientId, secret);
  expect(kidOf(newToken)).toBe(rotated);
  const activeRow = page.locator(`[data-testid=key-row][data-kid="${rotated}"]`);
  await activeRow.getByRole("button", { name: `Revoke key ${rotated}` }).click();
  const revokeActive = page.getByRole("dialog", { name: `Revoke key ${rotated}?` });
  await expect(revokeActive.getByTestId("revoke-active-note")).toBeVisible();
  await revokeActive.getByTestId("confirm-revoke-key").click();
  await expect(revokeActive).toBeHidden();
  await expect(rows).toHaveCount(3);
  const successor = (await rows.first().getAttribute("data-kid"))!;
  await expect(rows.first().getByTestId("key-state")).toHaveText("active");
  await expect(rows.first().getByTestId("key-alg")).toHaveText("ES256");
  await expect(activeRow.getByTestId("key-state")).toHaveText("revoked");
  expect(await publishedKids(request, tenantId)).toEqual([successor]);
  expect(await isActive(request, tenantId, clientId, secret, newToken)).toBe(false);

  // Revoking a key twice is refused with the domain's message (a stale page).
  const again = await serverFn(page.request, "revoke_signing_key", { tenant_id: tenantId, kid: rotated });
  expect(again.status).toBe(409);
  expect(again.body.message).toContain("already revoked");
  const badAlg = await serverFn(page.request, "rotate_signing_key", { tenant_id: tenantId, algorithm: "HS256" });
  expect(badAlg.status).toBe(400);
});

test("a viewer sees the keys and no kill switch, and the server refuses its writes", async ({ page, browser }) => {
  const { email, password } = state();
  await signInToTenant(page, email, password);
  const tenant = await serverFn(page.request, "create_tenant", { name: `Keys viewer ${Date.now() % 100000}` });
  const tenantId: string = tenant.body.tenant_id;
  const app = await serverFn(page.request, "create_application", { tenant_id: tenantId, name: "viewer-sees" });
  const clientId: string = app.body.client_id;

  const viewer = await viewerSession(browser, tenantId, "keys");
  await open(viewer.page, `/t/${tenantId}/keys`);
  await expect(viewer.page.getByTestId("key-row")).toHaveCount(1);
  await expect(viewer.page.getByTestId("rotate-key")).toHaveCount(0);
  await expect(viewer.page.getByTestId("revoke-key")).toHaveCount(0);

  await open(viewer.page, `/t/${tenantId}/applications`);
  const row = viewer.page.getByTestId("app-row").filter({ hasText: "viewer-sees" });
  await row.getByTestId("app-toggle").click();
  await expect(row.getByTestId("app-details")).toBeVisible();
  await expect(row.getByTestId("cred-client-id")).toHaveText(clientId);
  await expect(row.getByTestId("revoke-tokens")).toHaveCount(0);

  const kid = (await viewer.page.request.post(`/api/list_signing_keys`, {
    form: { tenant_id: tenantId },
    headers: { Origin: state().baseURL },
  }).then((r) => r.json())).keys[0].kid;
  for (const [name, form] of [
    ["rotate_signing_key", { tenant_id: tenantId }],
    ["revoke_signing_key", { tenant_id: tenantId, kid }],
    ["revoke_application_tokens", { tenant_id: tenantId, client_id: clientId }],
  ] as const) {
    const refused = await serverFn(viewer.page.request, name, form);
    expect(refused.status, name).toBe(403);
  }
  expect(viewer.errors).toEqual([]);
  await viewer.context.close();
});
