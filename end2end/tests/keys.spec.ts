// The Signing keys page: an admin rotates the key (choosing the algorithm)
// and revokes keys, and the tenant's JWKS and introspection follow; an
// admin turns the rotation schedule on, to another interval and off; a
// viewer sees the keys and the schedule and no control, and the server
// refuses its writes.
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

test("an admin sets the rotation schedule, checked as the API checks it", async ({ page }) => {
  const { email, password } = state();
  await signInToTenant(page, email, password);
  const tenant = await serverFn(page.request, "create_tenant", { name: `Schedule ${Date.now() % 100000}` });
  expect(tenant.status).toBe(200);
  const tenantId: string = tenant.body.tenant_id;

  await open(page, `/t/${tenantId}/keys`);
  const section = page.getByTestId("rotation-schedule");
  await expect(section.getByTestId("rotation-status")).toHaveText("Off");
  await expect(section.getByTestId("rotation-next")).toHaveCount(0);
  await expect(section.getByLabel("Interval (days)")).toHaveValue("90");

  // Out-of-range and non-numeric intervals are refused before anything is saved.
  await section.getByTestId("rotation-enabled").check();
  const days = section.getByLabel("Interval (days)");
  for (const bad of ["0", "366", ""]) {
    await days.fill(bad);
    await section.getByTestId("save-rotation").click();
    await expect(section.getByRole("alert")).toContainText("whole number of days from 1 to 365");
  }
  await expect(section.getByTestId("rotation-status")).toHaveText("Off");

  // On, every 30 days: the next rotation is 30 days after the key began signing.
  await days.fill("30");
  const before = Date.now();
  await section.getByTestId("save-rotation").click();
  await expect(page.getByTestId("notice")).toContainText("Keys now rotate every 30 days.");
  await expect(section.getByTestId("rotation-status")).toHaveText("Every 30 days");
  const next = await section.getByTestId("rotation-next").textContent();
  const nextAt = Date.parse(next!.replace(" UTC", "Z").replace(" ", "T"));
  const thirtyDays = 30 * 24 * 3600 * 1000;
  expect(Math.abs(nextAt - (before + thirtyDays))).toBeLessThan(24 * 3600 * 1000);
  await expect(section.getByTestId("rotation-next-key")).toHaveCount(0);

  // It is stored: a fresh page shows it, and the server function agrees.
  await open(page, `/t/${tenantId}/keys`);
  await expect(section.getByTestId("rotation-status")).toHaveText("Every 30 days");
  await expect(section.getByTestId("rotation-enabled")).toBeChecked();
  await expect(section.getByLabel("Interval (days)")).toHaveValue("30");
  const read = await serverFn(page.request, "key_rotation_schedule", { tenant_id: tenantId });
  expect(read.status).toBe(200);
  expect(read.body).toMatchObject({ enabled: true, interval_days: 30, next_kid: null });

  // The server checks the interval too, whatever the page sent.
  for (const bad of ["0", "366", "-3"]) {
    const refused = await serverFn(page.request, "set_key_rotation_schedule", {
      tenant_id: tenantId,
      enabled: "true",
      interval_days: bad,
    });
    expect(refused.status, bad).toBe(400);
    expect(refused.body.message).toContain("1 to 365");
  }
  const garbled = await serverFn(page.request, "set_key_rotation_schedule", {
    tenant_id: tenantId,
    enabled: "true",
    interval_days: "ninety",
  });
  expect(garbled.status).toBe(400);

  // Off again; a one-day interval reads as such when it is turned back on.
  await section.getByTestId("rotation-enabled").uncheck();
  await section.getByTestId("save-rotation").click();
  await expect(page.getByTestId("notice")).toContainText("Scheduled rotation is off.");
  await expect(section.getByTestId("rotation-status")).toHaveText("Off");
  await expect(section.getByTestId("rotation-next")).toHaveCount(0);
  await section.getByTestId("rotation-enabled").check();
  await days.fill("1");
  await section.getByTestId("save-rotation").click();
  await expect(section.getByTestId("rotation-status")).toHaveText("Every day");
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
  // The schedule is shown, read-only.
  const schedule = viewer.page.getByTestId("rotation-schedule");
  await expect(schedule.getByTestId("rotation-status")).toHaveText("Off");
  await expect(schedule.getByTestId("rotation-enabled")).toHaveCount(0);
  await expect(schedule.getByTestId("save-rotation")).toHaveCount(0);

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
    ["set_key_rotation_schedule", { tenant_id: tenantId, enabled: "true", interval_days: "30" }],
  ] as const) {
    const refused = await serverFn(viewer.page.request, name, form);
    expect(refused.status, name).toBe(403);
  }
  expect(viewer.errors).toEqual([]);
  await viewer.context.close();
});
