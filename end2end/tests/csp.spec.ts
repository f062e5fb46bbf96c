// The dashboard under its Content-Security-Policy: every page answers with
// a nonce-based script policy, and loading each page, opening each dialog
// and using it raises no CSP violation — the hydration scripts, the
// resource chunks and the markup all pass — and the page still hydrates.
import { Page, Response } from "@playwright/test";
import { expect, test } from "./fixtures";
import { appRow, open, serverFn, signInToTenant, state, tokenStatus } from "./helpers";

/** Collects CSP violations from the first byte of every document the page loads. */
async function watchViolations(page: Page): Promise<string[]> {
  const console: string[] = [];
  page.on("console", (message) => {
    if (message.text().includes("Content Security Policy")) console.push(`console: ${message.text()}`);
  });
  await page.addInitScript(() => {
    (window as any).__cspViolations = [];
    document.addEventListener("securitypolicyviolation", (event) => {
      (window as any).__cspViolations.push(`${event.violatedDirective} blocked ${event.blockedURI || "inline"} at ${event.sourceFile}:${event.lineNumber}`);
    });
  });
  return console;
}

/** Expects no violation so far on the current document, nor in the console. */
async function expectNoViolation(page: Page, console: string[], what: string) {
  const seen: string[] = await page.evaluate(() => (window as any).__cspViolations ?? ["the watcher did not run"]);
  expect([...seen, ...console], `CSP violations on ${what}`).toEqual([]);
}

/** The answer carries the nonce policy, without 'unsafe-inline' for scripts. */
function expectNoncePolicy(response: Response | null, what: string) {
  const csp = response?.headers()["content-security-policy"] ?? "";
  expect(csp, what).toMatch(/script-src 'self' 'nonce-[A-Za-z0-9_-]{22,}' 'wasm-unsafe-eval'/);
  expect(csp, what).not.toContain("unsafe-inline");
  expect(csp, what).toContain("frame-ancestors 'none'");
}

/** Opens a dialog with `opener`, checks it, and closes it with Escape. */
async function openAndClose(page: Page, console: string[], opener: () => Promise<void>, dialogName: string | RegExp) {
  await opener();
  const dialog = page.getByRole("dialog", { name: dialogName });
  await expect(dialog).toBeVisible();
  await expectNoViolation(page, console, `the dialog ${dialogName}`);
  await page.keyboard.press("Escape");
  await expect(dialog).toBeHidden();
}

test("every page and dialog runs under the CSP without a violation", async ({ page, request }) => {
  test.setTimeout(180_000);
  const console = await watchViolations(page);
  const { email, password } = state();

  const login = await page.goto("/login");
  expectNoncePolicy(login, "the sign-in page");
  const tenantId = await signInToTenant(page, email, password);
  await expectNoViolation(page, console, "sign-in and the landing page");

  // Data for every page: an application with scopes, usage and a role.
  const created = await serverFn(page.request, "create_application", { tenant_id: tenantId, name: `csp-${Date.now() % 100000}` });
  expect(created.status).toBe(200);
  const { client_id: clientId, secret, name } = created.body;
  const scoped = await serverFn(page.request, "set_application_scopes", { tenant_id: tenantId, client_id: clientId, "scopes[0]": "read" });
  expect(scoped.status).toBe(200);
  expect(await tokenStatus(request, tenantId, clientId, secret)).toBe(200);
  const role = await serverFn(page.request, "create_role", { tenant_id: tenantId, name: `csp-role-${Date.now() % 100000}` });
  expect(role.status).toBe(200);

  // Applications: hydrated (a click opens a dialog), a row expanded with its usage bars, every dialog.
  const applications = await open(page, `/t/${tenantId}/applications`);
  expectNoncePolicy(applications, "the Applications page");
  await openAndClose(page, console, () => page.getByTestId("add-application").first().click(), "Add application");
  const row = appRow(page, name);
  await row.getByTestId("app-toggle").click();
  const details = row.getByTestId("app-details");
  await expect(details.getByTestId("usage-summary")).toBeVisible();
  await expect(details.getByTestId("scope-name")).toHaveText(["read"]);
  await expectNoViolation(page, console, "an expanded application");
  await openAndClose(page, console, () => details.getByTestId("rotate-secret").click(), /Rotate the secret/);
  await openAndClose(page, console, () => details.getByTestId("rename-application").click(), "Rename application");
  await openAndClose(page, console, () => details.getByTestId("revoke-tokens").click(), /Revoke every token/);
  await openAndClose(page, console, () => details.getByTestId("delete-application").click(), /^Delete /);

  // Roles: create, edit and delete dialogs.
  const roles = await open(page, `/t/${tenantId}/roles`);
  expectNoncePolicy(roles, "the Roles page");
  await openAndClose(page, console, () => page.getByTestId("create-role").click(), "Create role");
  await expect(page.getByTestId("role-row").first()).toBeVisible();
  await openAndClose(page, console, () => page.getByTestId("edit-role").first().click(), "Edit role");
  await openAndClose(page, console, () => page.getByTestId("delete-role").first().click(), /^Delete the role/);

  // Users (found by a search, so the row is on the first page): the switch and every dialog.
  const added = await serverFn(page.request, "add_directory_user", {
    tenant_id: tenantId,
    email: `csp-user-${Date.now() % 100000}@example.com`,
    password: "long-enough-passphrase",
  });
  expect(added.status).toBe(200);
  const users = await open(page, `/t/${tenantId}/users?q=${encodeURIComponent(added.body.email)}`);
  expectNoncePolicy(users, "the Users page");
  await openAndClose(page, console, async () => {
    await page.getByTestId("add-user").click();
    await page.getByTestId("generate-password").click();
  }, "Add user");
  const userRow = page.locator(`[data-testid=user-row][data-email="${added.body.email}"]`);
  await userRow.getByTestId("user-active").click();
  await expect(userRow.getByTestId("user-active")).toHaveAttribute("aria-checked", "false");
  await userRow.getByTestId("user-active").click();
  await expect(userRow.getByTestId("user-active")).toHaveAttribute("aria-checked", "true");
  await expectNoViolation(page, console, "the Users page after disabling and enabling a user");
  await openAndClose(page, console, () => userRow.getByTestId("reset-user-password").click(), /^Reset the password of /);
  await openAndClose(page, console, () => userRow.getByTestId("user-roles").click(), /^Roles of /);
  await openAndClose(page, console, () => userRow.getByTestId("delete-user").click(), /^Delete csp-user-/);

  // Signing keys: rotate and revoke dialogs.
  const keys = await open(page, `/t/${tenantId}/keys`);
  expectNoncePolicy(keys, "the Signing keys page");
  await expect(page.getByTestId("key-row").first()).toBeVisible();
  await openAndClose(page, console, () => page.getByTestId("rotate-key").click(), "Rotate the signing key?");
  await openAndClose(page, console, () => page.getByTestId("revoke-key").first().click(), /^Revoke key /);

  // Members, Audit, Tenants, not found: loaded, hydrated, clean.
  for (const [path, testId] of [
    [`/t/${tenantId}/members`, "members-table"],
    [`/t/${tenantId}/audit`, "audit-row"],
    ["/tenants", "tenants-table"],
    ["/no-such-page", "not-found"],
  ]) {
    const response = await open(page, path);
    expectNoncePolicy(response, path);
    await expect(page.getByTestId(testId).first()).toBeVisible();
    await expectNoViolation(page, console, path);
  }
  // Hydrated: the sign-out button works, and the sign-in page it leads to is clean.
  await open(page, `/t/${tenantId}/applications`);
  await page.getByTestId("logout").click();
  await expect(page).toHaveURL(/\/login$/);
  await expectNoViolation(page, console, "signing out and the sign-in page");
});

test("the watcher is not blind: a script without the nonce is refused and reported", async ({ browser }) => {
  // A page of its own: the refusal is logged, which the console guard of `page` would count.
  const context = await browser.newContext({ baseURL: state().baseURL });
  const page = await context.newPage();
  const console = await watchViolations(page);
  expectNoncePolicy(await page.goto("/login"), "the sign-in page");
  await page.evaluate(() => {
    const script = document.createElement("script");
    script.textContent = "window.__injected = true;";
    document.head.appendChild(script);
  });
  await expect.poll(() => page.evaluate(() => (window as any).__cspViolations.length)).toBe(1);
  expect(await page.evaluate(() => (window as any).__injected)).toBeUndefined();
  expect(await page.evaluate(() => (window as any).__cspViolations[0])).toContain("script-src");
  await expect.poll(() => console.length).toBe(1);
  await context.close();
});
