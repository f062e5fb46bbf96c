// The Applications tab, driven as an admin: add (with the name rules),
// expand, reveal, copy, use, rotate with a grace period, revoke the
// previous secret, revoke every token issued so far, and delete — checking
// the credentials against the real token and introspection endpoints.
import { expect, test } from "./fixtures";
import { appRow, hydrated, nameOfLength, open, serverFn, signInToTenant, state, tokenStatus } from "./helpers";
import { isActive, takeToken } from "./tokens";

test("the Add application dialog traps focus, closes on Esc and counts characters", async ({ page }) => {
  const { email, password } = state();
  await signInToTenant(page, email, password);

  const opener = page.getByTestId("add-application");
  await opener.click();
  const dialog = page.getByRole("dialog", { name: "Add application" });
  await expect(dialog).toBeVisible();
  const name = dialog.getByLabel("Name");
  await expect(name).toBeFocused();

  // Tab and Shift+Tab never leave the dialog.
  for (let i = 0; i < 6; i++) {
    await page.keyboard.press("Tab");
    expect(await page.evaluate(() => !!document.activeElement?.closest("[role=dialog]"))).toBe(true);
  }
  await name.focus();
  await page.keyboard.press("Shift+Tab");
  expect(await page.evaluate(() => !!document.activeElement?.closest("[role=dialog]"))).toBe(true);

  // "é" and an emoji are one character each, as the server counts them.
  await name.fill("é🦀");
  await expect(dialog.getByTestId("name-counter")).toHaveText("2/50");
  await name.fill(nameOfLength("🦀", 50));
  await expect(dialog.getByTestId("name-counter")).toHaveText("50/50");

  // An empty name is refused next to the field.
  await name.fill("   ");
  await dialog.getByRole("button", { name: "Save" }).click();
  await expect(dialog.getByTestId("name-error")).toHaveText("Enter a name.");

  await page.keyboard.press("Escape");
  await expect(dialog).toBeHidden();
  await expect(opener).toBeFocused();
});

test("the server refuses an over-long name even when the dialog is bypassed", async ({ page }) => {
  const { email, password } = state();
  const tenantId = await signInToTenant(page, email, password);
  const refused = await serverFn(page.request, "create_application", { tenant_id: tenantId, name: nameOfLength("é", 51) });
  expect(refused.status).toBe(400);
  expect(refused.body).toEqual({ kind: "Validation", message: "Name must be 1 to 50 characters." });
  const empty = await serverFn(page.request, "create_application", { tenant_id: tenantId, name: "  " });
  expect(empty.status).toBe(400);
});

test("an admin adds an application, uses its secret, rotates, revokes and deletes it", async ({ page, context, request }) => {
  const { email, password, baseURL } = state();
  await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: baseURL });
  const tenantId = await signInToTenant(page, email, password);

  // 51 characters: refused, with the message next to the field.
  await page.getByTestId("add-application").click();
  const dialog = page.getByRole("dialog", { name: "Add application" });
  const tooLong = nameOfLength("Ledger sync café 🦀 ", 51);
  await dialog.getByLabel("Name").fill(tooLong);
  await expect(dialog.getByTestId("name-counter")).toHaveText("51/50");
  await dialog.getByRole("button", { name: "Save" }).click();
  await expect(dialog.getByTestId("name-error")).toHaveText("Names can be at most 50 characters; this one has 51.");
  await expect(dialog.getByLabel("Name")).toHaveAttribute("aria-invalid", "true");
  await expect(dialog).toBeVisible();

  // 50 characters: accepted; the row opens with the new credentials.
  const appName = nameOfLength("Ledger sync café 🦀 ", 50);
  await dialog.getByLabel("Name").fill(appName);
  await expect(dialog.getByTestId("name-counter")).toHaveText("50/50");
  await dialog.getByRole("button", { name: "Save" }).click();
  await expect(dialog).toBeHidden();
  const row = appRow(page, appName);
  await expect(row).toHaveCount(1);
  const details = row.getByTestId("app-details");
  await expect(details).toBeVisible();
  await expect(row.getByTestId("app-toggle")).toHaveAttribute("aria-expanded", "true");

  const clientId = (await details.getByTestId("cred-client-id").textContent())!.trim();
  expect(clientId).toMatch(/^[0-9a-f-]{36}$/);
  await expect(row.getByTestId("app-client-id")).toHaveText(clientId);
  await expect(details.getByTestId("cred-tenant-id")).toHaveText(tenantId);
  await expect(details.getByTestId("cred-oauth-url")).toHaveText(`${baseURL}/oauth/v4/${tenantId}`);
  await expect(details.getByTestId("cred-discovery")).toHaveText(
    `${baseURL}/oauth/v4/${tenantId}/.well-known/openid-configuration`,
  );
  const secretValue = details.getByTestId("secret-value");
  await expect(secretValue).toHaveAttribute("data-revealed", "true");
  const createdSecret = (await secretValue.textContent())!.trim();
  expect(createdSecret).toMatch(/^[A-Za-z0-9_-]{43}$/);

  // Hidden, only the last four show; Reveal asks the server again.
  await details.getByRole("button", { name: "Hide" }).click();
  await expect(secretValue).toHaveAttribute("data-revealed", "false");
  const masked = (await secretValue.textContent())!.trim();
  expect(masked.endsWith(createdSecret.slice(-4))).toBe(true);
  expect(masked).not.toContain(createdSecret.slice(0, 8));
  await expect(details.getByTestId("curl")).toContainText('$CLAVIS_CLIENT_SECRET');
  await details.getByTestId("reveal-secret").click();
  await expect(secretValue).toHaveAttribute("data-revealed", "true");
  await expect(secretValue).toHaveText(createdSecret);
  await expect(details.getByTestId("curl")).toContainText(`-u '${clientId}:${createdSecret}'`);

  await details.getByTestId("copy-secret").click();
  await expect(details.getByTestId("copy-secret")).toHaveText("Copied");
  expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(createdSecret);

  // The copied credentials work at the token endpoint.
  expect(await tokenStatus(request, tenantId, clientId, createdSecret)).toBe(200);

  // Rotate with a one-hour grace: both secrets work.
  await details.getByTestId("rotate-secret").click();
  const rotate = page.getByRole("dialog", { name: /Rotate the secret/ });
  await expect(rotate.getByLabel("After 24 hours")).toBeChecked();
  await rotate.getByLabel("After 1 hour").check();
  await rotate.getByTestId("confirm-rotate").click();
  await expect(rotate).toBeHidden();
  await expect(secretValue).toHaveAttribute("data-revealed", "true");
  await expect(secretValue).not.toHaveText(createdSecret);
  const rotatedSecret = (await secretValue.textContent())!.trim();
  expect(rotatedSecret).toMatch(/^[A-Za-z0-9_-]{43}$/);
  const previous = details.getByTestId("previous-secret");
  await expect(previous).toBeVisible();
  await expect(previous).toContainText(`ending in ${createdSecret.slice(-4)}`);
  const expires = await previous.getByTestId("previous-expires").getAttribute("datetime");
  const graceSeconds = (Date.parse(expires!) - Date.now()) / 1000;
  expect(graceSeconds).toBeGreaterThan(3500);
  expect(graceSeconds).toBeLessThan(3700);
  expect(await tokenStatus(request, tenantId, clientId, createdSecret)).toBe(200);
  expect(await tokenStatus(request, tenantId, clientId, rotatedSecret)).toBe(200);

  // Revoke now: the old secret stops at once, the new one keeps working.
  await previous.getByTestId("revoke-previous").click();
  await expect(previous).toBeHidden();
  expect(await tokenStatus(request, tenantId, clientId, createdSecret)).toBe(401);
  expect(await tokenStatus(request, tenantId, clientId, rotatedSecret)).toBe(200);

  // The usage chart counts the four tokens issued above (refused requests
  // do not count); counters reach the database every few seconds.
  const usage = details.getByTestId("usage");
  await expect(async () => {
    await usage.getByRole("button", { name: "Refresh" }).click();
    await expect(usage.getByTestId("usage-summary")).toHaveText(/^4 tokens in the last hour/, { timeout: 1_000 });
  }).toPass({ timeout: 20_000 });

  // Delete, confirmed by typing the name: the secret stops working.
  await details.getByTestId("delete-application").click();
  const remove = page.getByRole("dialog", { name: /^Delete / });
  const confirm = remove.getByTestId("confirm-delete");
  await expect(confirm).toBeDisabled();
  await remove.getByLabel(/to confirm/).fill("not the name");
  await expect(confirm).toBeDisabled();
  await remove.getByLabel(/to confirm/).fill(appName);
  await expect(confirm).toBeEnabled();
  await confirm.click();
  await expect(remove).toBeHidden();
  await expect(row).toHaveCount(0);
  await expect(page.getByTestId("notice")).toContainText(`Deleted ${appName}`);
  expect(await tokenStatus(request, tenantId, clientId, rotatedSecret)).toBe(401);

  // Gone for the server too, not just from the page.
  await page.reload();
  await expect(page.getByTestId("app-name").getByText(appName, { exact: true })).toHaveCount(0);
});

test("rename and management access are saved on the server", async ({ page }) => {
  const { email, password } = state();
  const tenantId = await signInToTenant(page, email, password);
  const created = await serverFn(page.request, "create_application", { tenant_id: tenantId, name: "inventory-sync" });
  expect(created.status).toBe(200);
  await page.reload();
  await hydrated(page);

  const row = appRow(page, "inventory-sync");
  await row.getByTestId("app-toggle").click();
  await row.getByTestId("rename-application").click();
  const rename = page.getByRole("dialog", { name: "Rename application" });
  await expect(rename.getByLabel("Name")).toHaveValue("inventory-sync");
  await rename.getByLabel("Name").fill("inventory-sync-eu");
  await rename.getByRole("button", { name: "Save" }).click();
  await expect(rename).toBeHidden();
  await expect(appRow(page, "inventory-sync-eu")).toHaveCount(1);

  const renamed = appRow(page, "inventory-sync-eu");
  await renamed.getByTestId("management-access").selectOption("read");
  await expect(page.getByTestId("error")).toHaveCount(0);

  const fetched = await serverFn(page.request, "get_application", { tenant_id: tenantId, client_id: created.body.client_id });
  expect(fetched.body.name).toBe("inventory-sync-eu");
  await expect.poll(async () => (await serverFn(page.request, "get_application", {
    tenant_id: tenantId,
    client_id: created.body.client_id,
  })).body.management_access).toBe("read");
});

test("revoke all tokens: tokens issued before stop at introspection, later ones work", async ({ page, request }) => {
  const { email, password } = state();
  const tenantId = await signInToTenant(page, email, password);
  const name = `kill-switch-${Date.now() % 100000}`;
  const created = await serverFn(page.request, "create_application", { tenant_id: tenantId, name });
  expect(created.status).toBe(200);
  const { client_id: clientId, secret } = created.body;
  const earlier = await takeToken(request, tenantId, clientId, secret);
  expect(await isActive(request, tenantId, clientId, secret, earlier)).toBe(true);

  await open(page, `/t/${tenantId}/applications`);
  const row = appRow(page, name);
  await row.getByTestId("app-toggle").click();
  await row.getByTestId("revoke-tokens").click();
  const dialog = page.getByRole("dialog", { name: `Revoke every token of ${name}?` });
  await expect(dialog).toContainText("Every token issued to this application before now stops being accepted by introspection");
  await expect(dialog).toContainText("only when each token's lifetime ends");
  // Cancel changes nothing.
  await dialog.getByRole("button", { name: "Cancel" }).click();
  await expect(dialog).toBeHidden();
  expect(await isActive(request, tenantId, clientId, secret, earlier)).toBe(true);

  await row.getByTestId("revoke-tokens").click();
  await dialog.getByTestId("confirm-revoke-tokens").click();
  await expect(dialog).toBeHidden();
  await expect(page.getByTestId("notice")).toHaveText(
    new RegExp(`Revoked every token issued to ${name} up to \\d{4}-\\d{2}-\\d{2} \\d{2}:\\d{2}:\\d{2} UTC\\.`),
  );
  expect(await isActive(request, tenantId, clientId, secret, earlier)).toBe(false);

  // The secret still works: a token issued after that second is accepted.
  await expect
    .poll(async () => isActive(request, tenantId, clientId, secret, await takeToken(request, tenantId, clientId, secret)), {
      timeout: 10_000,
      intervals: [500],
    })
    .toBe(true);
  expect(await tokenStatus(request, tenantId, clientId, secret)).toBe(200);
});
