// Accessibility: axe-core (injected from node_modules, nothing fetched)
// finds no WCAG 2.1 A or AA violation on any page of the dashboard, in each
// of its states and with each dialog open. Every page must also have one
// `h1`, a `main` landmark, all content inside landmarks, and named dialogs
// (axe files these under best practices; they are enabled explicitly).
// With a modal dialog open axe skips the page-level rules (h1, main,
// regions) but still checks the dialog and everything behind it.
import { Browser, Page } from "@playwright/test";
import { readFileSync } from "node:fs";
import { expect, test, watchErrors } from "./fixtures";
import { appRow, hydrated, open, serverFn, signInToTenant, state } from "./helpers";

const axeSource = readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");

const AXE_OPTIONS = {
  runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"] },
  rules: {
    "page-has-heading-one": { enabled: true },
    "landmark-one-main": { enabled: true },
    "landmark-no-duplicate-main": { enabled: true },
    region: { enabled: true },
    "aria-dialog-name": { enabled: true },
    "heading-order": { enabled: true },
  },
  resultTypes: ["violations"],
};

interface AxeNode {
  target: unknown[];
  html: string;
  failureSummary?: string;
}
interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  helpUrl: string;
  nodes: AxeNode[];
}

/** The violations as a person reads them: rule, what to do, and each element with why. */
function describe(violations: AxeViolation[]): string {
  return violations
    .map((v) => {
      const nodes = v.nodes
        .map((n) => {
          const why = (n.failureSummary ?? "").replace(/\n/g, "\n        ");
          return `    - ${n.target.join(" ")}\n      ${n.html}\n        ${why}`;
        })
        .join("\n");
      return `[${v.impact ?? "?"}] ${v.id}: ${v.help} (${v.helpUrl})\n${nodes}`;
    })
    .join("\n\n");
}

/** Runs axe on the whole page as it is now and expects no violation. */
async function expectAccessible(page: Page, what: string) {
  if (!(await page.evaluate(() => "axe" in window))) {
    // Evaluated, not added as a <script>: the dashboard's CSP rightly
    // refuses an inline script without its nonce.
    await page.evaluate(axeSource);
  }
  const violations: AxeViolation[] = await page.evaluate(
    async (options) => (await (window as any).axe.run(document, options)).violations,
    AXE_OPTIONS,
  );
  const summary = violations.map((v) => `${v.id} (${v.nodes.length})`);
  // Soft: the test goes on, so one run reports every page's violations.
  expect.soft(summary, `axe found accessibility violations on ${what}:\n\n${describe(violations)}\n`).toEqual([]);
}

/** A tenant of its own for a test, so its data meets no other spec's; opens its Applications page. */
async function freshTenant(page: Page, label: string): Promise<string> {
  const tenant = await serverFn(page.request, "create_tenant", { name: `A11y ${label} ${Date.now() % 100000}` });
  expect(tenant.status).toBe(200);
  const tenantId: string = tenant.body.tenant_id;
  await open(page, `/t/${tenantId}/applications`);
  return tenantId;
}

async function createApplication(page: Page, tenantId: string, name: string, scopes: string[] = []) {
  const app = await serverFn(page.request, "create_application", { tenant_id: tenantId, name });
  expect(app.status).toBe(200);
  const clientId: string = app.body.client_id;
  if (scopes.length > 0) {
    const form: Record<string, string> = { tenant_id: tenantId, client_id: clientId };
    scopes.forEach((scope, i) => (form[`scopes[${i}]`] = scope));
    expect((await serverFn(page.request, "set_application_scopes", form)).status).toBe(200);
  }
  return clientId;
}

async function newSession(browser: Browser, email: string, password: string) {
  const context = await browser.newContext({ baseURL: state().baseURL });
  const page = await context.newPage();
  const errors = watchErrors(page);
  return { context, page, errors, tenantId: await signInToTenant(page, email, password) };
}

test("the sign-in page, and its refusal", async ({ page }) => {
  await page.goto("/login");
  await hydrated(page);
  await expectAccessible(page, "the sign-in page");

  await page.getByLabel("Email").fill("nobody@example.com");
  await page.getByLabel("Password").fill("not-the-password");
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByTestId("login-error")).toBeVisible();
  // A primary button's hover colours, checked on purpose (see the Use
  // public keys dialog below).
  await page.getByRole("button", { name: "Sign in" }).hover();
  await expectAccessible(page, "the sign-in page with its error");
});

test("the Applications page: empty, listed, expanded, and every dialog", async ({ page }) => {
  test.setTimeout(180_000);
  const { email, password } = state();
  await signInToTenant(page, email, password);
  const tenantId = await freshTenant(page, "applications");
  await expect(page.getByTestId("empty-state")).toBeVisible();
  await expectAccessible(page, "the Applications page with no application");

  // Add application, with the name refused and then accepted.
  await page.getByTestId("add-application").first().click();
  const add = page.getByRole("dialog", { name: "Add application" });
  await expect(add.getByLabel("Name")).toBeFocused();
  await expectAccessible(page, "the Add application dialog");
  await add.getByLabel("Name").fill("   ");
  await add.getByRole("button", { name: "Save" }).click();
  await expect(add.getByTestId("name-error")).toHaveText("Enter a name.");
  await expectAccessible(page, "the Add application dialog with a refused name");
  await add.getByLabel("Name").fill("a11y-inventory");
  await add.getByRole("button", { name: "Save" }).click();
  await expect(add).toBeHidden();

  // The new row is open, its secret shown; let its cards load.
  const row = appRow(page, "a11y-inventory");
  const details = row.getByTestId("app-details");
  await expect(details.getByTestId("secret-value")).toHaveAttribute("data-revealed", "true");
  await expect(details.getByTestId("no-scopes")).toBeVisible();
  await expect(details.getByTestId("roles-card").getByTestId("no-roles")).toBeVisible();
  await expect(details.getByTestId("usage-summary")).toBeVisible();
  await expectAccessible(page, "an expanded application with its new secret, no scopes and no roles");

  // Access control: a refused scope, then scopes, an identifier refused.
  const scopes = details.getByTestId("scopes-card");
  await scopes.getByLabel("New scope").fill("Read");
  await scopes.getByRole("button", { name: "Add scope" }).click();
  await expect(scopes.getByTestId("scope-error")).not.toBeEmpty();
  await expectAccessible(page, "the scopes card with a refused scope");
  for (const scope of ["read", "write"]) {
    await scopes.getByLabel("New scope").fill(scope);
    await scopes.getByRole("button", { name: "Add scope" }).click();
    await expect(scopes.getByTestId("scope-item").filter({ hasText: scope })).toHaveCount(1);
  }
  const identifier = details.getByTestId("identifier-card");
  await identifier.getByLabel("Identifier").fill("http://inventory.example");
  await identifier.getByRole("button", { name: "Save identifier" }).click();
  await expect(identifier.getByTestId("identifier-error")).not.toBeEmpty();
  await expectAccessible(page, "the access-control section with scopes and a refused identifier");

  // A caller holding a role: the roles card shows checkboxes, the snippet its target.
  const callerId = await createApplication(page, tenantId, "a11y-caller");
  const role = await serverFn(page.request, "create_role", {
    tenant_id: tenantId,
    name: "a11y-reader",
    description: "Reads the inventory",
  });
  expect(role.status).toBe(200);
  await createApplication(page, tenantId, "a11y-other");
  await open(page, `/t/${tenantId}/applications`);
  await expect(page.getByTestId("app-row")).toHaveCount(3);
  await expectAccessible(page, "the Applications page, every row collapsed");

  await page.getByTestId("app-filter").fill("no-such-application");
  await expect(page.getByTestId("no-match")).toBeVisible();
  await expectAccessible(page, "the Applications page with a filter matching nothing");
  await page.getByTestId("app-filter").fill("");
  await expect(page.getByTestId("app-row")).toHaveCount(3);

  const caller = appRow(page, "a11y-caller");
  await caller.getByTestId("app-toggle").click();
  const callerDetails = caller.getByTestId("app-details");
  const roleBox = callerDetails.getByTestId("roles-card").getByLabel("a11y-reader");
  await roleBox.check();
  await expect(roleBox).toBeChecked();
  await expect(callerDetails.getByTestId("usage-summary")).toBeVisible();
  await expect(callerDetails.getByTestId("no-scopes")).toBeVisible();
  // The box is checked as soon as it is clicked; the save it starts may
  // still be in flight, so the stored roles are polled until it lands.
  await expect
    .poll(
      async () =>
        (await serverFn(page.request, "application_roles", { tenant_id: tenantId, client_id: callerId })).body.length,
    )
    .toBe(1);
  await expectAccessible(page, "an expanded application, secret hidden, holding a role");

  // Rotate (keeping the old secret an hour), rename and delete dialogs.
  await callerDetails.getByTestId("rotate-secret").click();
  const rotate = page.getByRole("dialog", { name: /Rotate the secret/ });
  await expect(rotate).toBeVisible();
  await expectAccessible(page, "the Rotate secret dialog");
  await rotate.getByLabel("After 1 hour").check();
  await rotate.getByTestId("confirm-rotate").click();
  await expect(rotate).toBeHidden();
  await expect(callerDetails.getByTestId("previous-secret")).toBeVisible();
  await expectAccessible(page, "an expanded application in its grace period, with a notice");

  await callerDetails.getByTestId("rename-application").click();
  const rename = page.getByRole("dialog", { name: "Rename application" });
  await expect(rename.getByLabel("Name")).toBeFocused();
  await expectAccessible(page, "the Rename dialog");
  await rename.getByLabel("Name").fill("x".repeat(51));
  await rename.getByRole("button", { name: "Save" }).click();
  await expect(rename.getByTestId("name-error")).not.toBeEmpty();
  await expectAccessible(page, "the Rename dialog with a name too long");
  await page.keyboard.press("Escape");
  await expect(rename).toBeHidden();

  await callerDetails.getByTestId("revoke-tokens").click();
  const revokeTokens = page.getByRole("dialog", { name: "Revoke every token of a11y-caller?" });
  await expect(revokeTokens).toBeVisible();
  await expectAccessible(page, "the Revoke all tokens dialog");
  await revokeTokens.getByTestId("confirm-revoke-tokens").click();
  await expect(revokeTokens).toBeHidden();
  await expect(page.getByTestId("notice")).toContainText("Revoked every token issued to a11y-caller");
  await expectAccessible(page, "an expanded application after its tokens were revoked, with a notice");

  await callerDetails.getByTestId("delete-application").click();
  const remove = page.getByRole("dialog", { name: "Delete a11y-caller?" });
  await expect(remove).toBeVisible();
  await expectAccessible(page, "the Delete application dialog");
  await remove.getByLabel(/to confirm/).fill("a11y-caller");
  await expect(remove.getByTestId("confirm-delete")).toBeEnabled();
  await expectAccessible(page, "the Delete application dialog, confirmed");
  await page.keyboard.press("Escape");
  await expect(remove).toBeHidden();
});

test("the Roles page and its dialogs", async ({ page }) => {
  test.setTimeout(120_000);
  const { email, password } = state();
  await signInToTenant(page, email, password);
  const tenantId = await freshTenant(page, "roles");
  await createApplication(page, tenantId, "a11y-api", ["read", "write"]);
  const callerId = await createApplication(page, tenantId, "a11y-client");

  await open(page, `/t/${tenantId}/roles`);
  await expect(page.getByTestId("no-roles")).toBeVisible();
  await expectAccessible(page, "the Roles page with no role");

  await page.getByTestId("create-role").click();
  const create = page.getByRole("dialog", { name: "Create role" });
  await expect(create.getByTestId("grant-application")).toHaveCount(1);
  await expectAccessible(page, "the Create role dialog");
  await create.getByLabel("Name").fill("a11y-reader");
  await create.getByLabel("Description").fill("Reads the API");
  await create.getByRole("group", { name: "a11y-api" }).getByLabel("read", { exact: true }).check();
  await create.getByTestId("save-role").click();
  await expect(create).toBeHidden();
  await expect(page.getByTestId("notice")).toContainText("Created the role a11y-reader.");

  // A role that grants nothing, and one application holding the first.
  expect((await serverFn(page.request, "create_role", { tenant_id: tenantId, name: "a11y-empty" })).status).toBe(200);
  const roles = await serverFn(page.request, "list_roles", { tenant_id: tenantId });
  const reader = roles.body.find((r: any) => r.name === "a11y-reader");
  const held = await serverFn(page.request, "set_application_roles", {
    tenant_id: tenantId,
    client_id: callerId,
    "role_ids[0]": reader.id,
  });
  expect(held.status).toBe(200);
  await open(page, `/t/${tenantId}/roles`);
  const readerRow = page.locator('[data-testid=role-row][data-name="a11y-reader"]');
  await expect(readerRow.getByTestId("role-grants")).toHaveText("a11y-api: read");
  await expectAccessible(page, "the Roles page with roles");

  await readerRow.getByRole("button", { name: "Edit a11y-reader" }).click();
  const edit = page.getByRole("dialog", { name: "Edit role" });
  await expect(edit.getByRole("group", { name: "a11y-api" }).getByLabel("read", { exact: true })).toBeChecked();
  await expectAccessible(page, "the Edit role dialog");
  await edit.getByLabel("Description").fill("x".repeat(1001));
  await edit.getByTestId("save-role").click();
  await expect(edit.locator("#role-description-error")).not.toBeEmpty();
  await expectAccessible(page, "the Edit role dialog with a description too long");
  await page.keyboard.press("Escape");
  await expect(edit).toBeHidden();

  await readerRow.getByRole("button", { name: "Delete a11y-reader" }).click();
  const remove = page.getByRole("dialog", { name: "Delete the role a11y-reader?" });
  await expect(remove.getByTestId("role-holders")).toContainText("a11y-client");
  await expectAccessible(page, "the Delete role dialog naming its holders");
  await page.keyboard.press("Escape");
  await expect(remove).toBeHidden();

  const emptyRow = page.locator('[data-testid=role-row][data-name="a11y-empty"]');
  await emptyRow.getByRole("button", { name: "Delete a11y-empty" }).click();
  const removeEmpty = page.getByRole("dialog", { name: "Delete the role a11y-empty?" });
  await expect(removeEmpty.getByTestId("role-holders")).toHaveText("No application holds this role.");
  await expectAccessible(page, "the Delete role dialog of a role nobody holds");
  await page.keyboard.press("Escape");
  await expect(removeEmpty).toBeHidden();
});

test("the Users page: empty, listed, searched, and every dialog", async ({ page }) => {
  test.setTimeout(120_000);
  const { email, password } = state();
  await signInToTenant(page, email, password);
  const tenantId = await freshTenant(page, "users");
  await open(page, `/t/${tenantId}/users`);
  await expect(page.getByTestId("no-users")).toBeVisible();
  await expectAccessible(page, "the Users page with no user");

  await page.getByTestId("add-user").click();
  const add = page.getByRole("dialog", { name: "Add user" });
  await expect(add.getByLabel("Email")).toBeFocused();
  await expect(add.getByTestId("password-policy")).not.toHaveText("Loading the password policy…");
  await expectAccessible(page, "the Add user dialog");
  await add.getByLabel("Email").fill("nobody");
  await add.getByLabel("Password", { exact: true }).fill("short");
  await add.getByTestId("save-user").click();
  await expect(add.getByTestId("email-error")).not.toBeEmpty();
  await expect(add.getByTestId("password-error")).not.toBeEmpty();
  await expectAccessible(page, "the Add user dialog with a refused email and password");
  await add.getByTestId("generate-password").click();
  await expect(add.getByTestId("copy-password")).toBeVisible();
  await expectAccessible(page, "the Add user dialog with a generated password");
  await add.getByLabel("Email").fill("a11y-user@example.com");
  await add.getByLabel("Given name").fill("Alan");
  await add.getByTestId("save-user").click();
  await expect(add).toBeHidden();
  await expect(page.getByTestId("notice")).toContainText("Added a11y-user@example.com.");

  expect((await serverFn(page.request, "create_role", { tenant_id: tenantId, name: "a11y-user-role" })).status).toBe(200);
  const row = page.locator('[data-testid=user-row][data-email="a11y-user@example.com"]');
  await row.getByTestId("user-active").click();
  await expect(row.getByTestId("user-active")).toHaveAttribute("aria-checked", "false");
  await expectAccessible(page, "the Users page with a disabled user and a notice");

  await row.getByTestId("reset-user-password").click();
  const reset = page.getByRole("dialog", { name: /^Reset the password of / });
  await expect(reset.getByTestId("password-policy")).not.toHaveText("Loading the password policy…");
  await expectAccessible(page, "the Reset password dialog");
  await page.keyboard.press("Escape");
  await expect(reset).toBeHidden();

  await row.getByTestId("user-roles").click();
  const roles = page.getByRole("dialog", { name: /^Roles of / });
  await expect(roles.getByLabel("a11y-user-role")).toBeVisible();
  await expectAccessible(page, "the Roles dialog of a user");
  await page.keyboard.press("Escape");
  await expect(roles).toBeHidden();

  await row.getByTestId("delete-user").click();
  const remove = page.getByRole("dialog", { name: "Delete a11y-user@example.com?" });
  await expect(remove).toBeVisible();
  await expectAccessible(page, "the Delete user dialog");
  await page.keyboard.press("Escape");
  await expect(remove).toBeHidden();

  await page.getByLabel("Search users").fill("no-such-user");
  await expect(page.getByTestId("users-no-match")).toBeVisible();
  await expectAccessible(page, "the Users page with a search matching nothing");
});

test("the Signing keys page and its dialogs", async ({ page }) => {
  test.setTimeout(120_000);
  const { email, password } = state();
  await signInToTenant(page, email, password);
  const tenantId = await freshTenant(page, "keys");

  await open(page, `/t/${tenantId}/keys`);
  await expect(page.getByTestId("key-row")).toHaveCount(1);
  await expectAccessible(page, "the Signing keys page with one key");

  await page.getByTestId("rotate-key").click();
  const rotate = page.getByRole("dialog", { name: "Rotate the signing key?" });
  await expect(rotate.getByLabel("Algorithm")).toBeFocused();
  await expectAccessible(page, "the Rotate key dialog");
  await rotate.getByTestId("confirm-rotate-key").click();
  await expect(rotate).toBeHidden();
  await expect(page.getByTestId("key-row")).toHaveCount(2);
  await expectAccessible(page, "the Signing keys page with an active and a previous key, and a notice");

  const previous = page.getByTestId("key-row").nth(1);
  await previous.getByTestId("revoke-key").click();
  const revoke = page.getByRole("dialog", { name: /^Revoke key / });
  await expect(revoke).toBeVisible();
  await expectAccessible(page, "the Revoke key dialog");
  await revoke.getByTestId("confirm-revoke-key").click();
  await expect(revoke).toBeHidden();
  await expect(previous.getByTestId("key-state")).toHaveText("revoked");

  await page.getByTestId("key-row").first().getByTestId("revoke-key").click();
  await expect(revoke.getByTestId("revoke-active-note")).toBeVisible();
  await expectAccessible(page, "the Revoke key dialog of the active key");
  await page.keyboard.press("Escape");
  await expect(revoke).toBeHidden();
  await expectAccessible(page, "the Signing keys page with a revoked key");
});

test("an application's credential, its dialogs, the Trusted issuers page and the DPoP setting", async ({ page, browser }) => {
  test.setTimeout(180_000);
  const { generateKeyPairSync } = require("node:crypto") as typeof import("node:crypto");
  const { viewerSession } = require("./tokens") as typeof import("./tokens");
  const publicJwks = (kid: string) => {
    const { publicKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
    return JSON.stringify({ keys: [{ ...(publicKey.export({ format: "jwk" }) as object), kid }] });
  };
  const { email, password } = state();
  await signInToTenant(page, email, password);
  const tenantId = await freshTenant(page, "credentials");
  await createApplication(page, tenantId, "a11y-keyed");
  await createApplication(page, tenantId, "a11y-federated");
  await open(page, `/t/${tenantId}/applications`);

  // A secret application's credential panel, and the Use public keys dialog.
  const keyed = appRow(page, "a11y-keyed");
  await keyed.getByTestId("app-toggle").click();
  const details = keyed.getByTestId("app-details");
  await expect(details.getByTestId("credential-type")).toHaveText("Secret");
  await expect(details.getByTestId("dpop-required")).toBeVisible();
  await expectAccessible(page, "an expanded application with its credential panel");
  await details.getByTestId("use-keys").click();
  const useKeys = page.getByRole("dialog", { name: "Use public keys for a11y-keyed?" });
  await expect(useKeys.getByLabel("Paste a JWKS")).toBeFocused();
  await expectAccessible(page, "the Use public keys dialog");
  await useKeys.getByTestId("confirm-use-keys").click();
  await expect(useKeys.getByRole("alert")).toBeVisible();
  // The pointer stays on the button it pressed, unless the alert moved the
  // button away: hover it, so its hover colours are checked every run (a
  // lighter red on hover once fell below 4.5:1 on some runs only).
  await useKeys.getByTestId("confirm-use-keys").hover();
  await expectAccessible(page, "the Use public keys dialog with its error");
  await useKeys.getByLabel("JWKS URL").check();
  await expect(useKeys.getByTestId("client-keys-value")).toHaveAttribute("type", "url");
  await expectAccessible(page, "the Use public keys dialog asking for a JWKS URL");
  await useKeys.getByLabel("Paste a JWKS").check();
  await useKeys.getByLabel("JWKS", { exact: true }).fill(publicJwks("a11y-key"));
  await useKeys.getByTestId("confirm-use-keys").click();
  await expect(useKeys).toBeHidden();
  await expect(details.getByTestId("client-key")).toHaveCount(1);
  await details.getByTestId("dpop-required").click();
  await expect(details.getByTestId("dpop-required")).toHaveAttribute("aria-checked", "true");
  await expectAccessible(page, "an application with public keys, DPoP required, and a notice");
  await details.getByTestId("remove-client-key").click();
  const removeKey = page.getByRole("dialog", { name: "Remove key a11y-key?" });
  await expect(removeKey).toBeVisible();
  await expectAccessible(page, "the Remove key dialog");
  await page.keyboard.press("Escape");
  await expect(removeKey).toBeHidden();

  // The Trusted issuers page: empty, the Add dialog (each source of keys), listed, Delete.
  await page.getByRole("navigation", { name: "Sections" }).getByRole("link", { name: "Trusted issuers" }).click();
  await expect(page).toHaveURL(`/t/${tenantId}/trusted-issuers`);
  await hydrated(page);
  await expect(page.getByTestId("no-issuers")).toBeVisible();
  await expectAccessible(page, "the Trusted issuers page with no issuer");
  await page.getByTestId("add-trusted-issuer").click();
  const add = page.getByRole("dialog", { name: "Add trusted issuer" });
  await expect(add.getByLabel("Name")).toBeFocused();
  await expectAccessible(page, "the Add trusted issuer dialog");
  await add.getByTestId("confirm-add-issuer").click();
  await expect(add.getByRole("alert")).toBeVisible();
  await expectAccessible(page, "the Add trusted issuer dialog with its error");
  await add.getByLabel("From a JWKS URL").check();
  await expectAccessible(page, "the Add trusted issuer dialog asking for a JWKS URL");
  await add.getByLabel("Pasted JWKS").check();
  await add.getByLabel("Name").fill("a11y cluster");
  await add.getByLabel("Issuer URL").fill("https://a11y-cluster.example");
  await add.getByLabel("JWKS", { exact: true }).fill(publicJwks("cluster"));
  await expectAccessible(page, "the Add trusted issuer dialog with a pasted JWKS");
  await add.getByTestId("confirm-add-issuer").click();
  await expect(add).toBeHidden();
  await expect(page.getByTestId("issuer-row")).toHaveCount(1);
  await expectAccessible(page, "the Trusted issuers page with an issuer and a notice");
  await page.getByTestId("delete-issuer").click();
  const deleteIssuer = page.getByRole("dialog", { name: "Delete a11y cluster?" });
  await expect(deleteIssuer).toBeVisible();
  await expectAccessible(page, "the Delete trusted issuer dialog");
  await page.keyboard.press("Escape");
  await expect(deleteIssuer).toBeHidden();

  // A federated application: the Add dialog, the list, the Remove dialog.
  await open(page, `/t/${tenantId}/applications`);
  const federated = appRow(page, "a11y-federated");
  await federated.getByTestId("app-toggle").click();
  const fedDetails = federated.getByTestId("app-details");
  await fedDetails.getByTestId("add-federated").click();
  const addFederated = page.getByRole("dialog", { name: "Use federated credentials for a11y-federated?" });
  await expect(addFederated.getByLabel("Issuer", { exact: true })).toBeVisible();
  await expectAccessible(page, "the Add federated credential dialog");
  await addFederated.getByTestId("confirm-add-federated").click();
  await expect(addFederated.getByRole("alert")).toBeVisible();
  await expectAccessible(page, "the Add federated credential dialog with its error");
  await addFederated.getByLabel("Subject").fill("system:serviceaccount:a11y:reader");
  await addFederated.getByTestId("confirm-add-federated").click();
  await expect(addFederated).toBeHidden();
  await expect(fedDetails.getByTestId("federated-credential")).toHaveCount(1);
  await expectAccessible(page, "an application with a federated credential");
  await fedDetails.getByTestId("remove-federated").click();
  const removeFederated = page.getByRole("dialog", { name: "Remove this federated credential?" });
  await expect(removeFederated).toBeVisible();
  await expectAccessible(page, "the Remove federated credential dialog");
  await page.keyboard.press("Escape");
  await expect(removeFederated).toBeHidden();

  // The Security page with the DPoP nonce setting.
  await open(page, `/t/${tenantId}/security`);
  await page.getByTestId("require-dpop-nonce").check();
  await expect(page.getByTestId("dpop-notice")).toContainText("DPoP proofs now need a server nonce.");
  await expectAccessible(page, "the Security page with DPoP nonces required");

  // A viewer: the credential panels and the Trusted issuers page, read-only.
  const viewer = await viewerSession(browser, tenantId, "a11y-credentials");
  // One row opens at a time.
  const viewerKeyed = appRow(viewer.page, "a11y-keyed");
  await viewerKeyed.getByTestId("app-toggle").click();
  await expect(viewerKeyed.getByTestId("client-key")).toHaveCount(1);
  await expect(viewerKeyed.getByTestId("dpop-required")).toHaveText("Required");
  await expectAccessible(viewer.page, "an expanded application with public keys, as a viewer");
  const viewerFederated = appRow(viewer.page, "a11y-federated");
  await viewerFederated.getByTestId("app-toggle").click();
  await expect(viewerFederated.getByTestId("federated-credential")).toHaveCount(1);
  await expectAccessible(viewer.page, "an expanded application with a federated credential, as a viewer");
  await open(viewer.page, `/t/${tenantId}/trusted-issuers`);
  await expect(viewer.page.getByTestId("issuer-row")).toHaveCount(1);
  await expectAccessible(viewer.page, "the Trusted issuers page of a viewer");
  expect(viewer.errors).toEqual([]);
  await viewer.context.close();
});

test("the Members, Audit, Tenants, not-found and home pages, and what a viewer sees", async ({ page, browser }) => {
  test.setTimeout(180_000);
  const { email, password } = state();
  await signInToTenant(page, email, password);
  const tenantId = await freshTenant(page, "members");
  const clientId = await createApplication(page, tenantId, "a11y-reports", ["read"]);
  expect((await serverFn(page.request, "create_role", { tenant_id: tenantId, name: "a11y-role" })).status).toBe(200);

  // Members: the add form (refused, then accepted) and the remove dialog.
  await page.getByRole("navigation", { name: "Sections" }).getByRole("link", { name: "Members" }).click();
  await expect(page).toHaveURL(`/t/${tenantId}/members`);
  await hydrated(page);
  await expect(page.getByTestId("members-table")).toBeVisible();
  await expectAccessible(page, "the Members page");
  const viewer = { email: `a11y-viewer-${Date.now()}@example.com`, password: "a calm and accessible reader" };
  await page.getByLabel("Email", { exact: true }).fill("not-an-email");
  await page.getByLabel("Role", { exact: true }).selectOption("viewer");
  await page.getByRole("button", { name: "Invite", exact: true }).click();
  await expect(page.getByTestId("error")).toBeVisible();
  await expectAccessible(page, "the Members page with the invite form's error");
  await page.getByLabel("Email", { exact: true }).fill(viewer.email);
  await page.getByRole("button", { name: "Invite", exact: true }).click();
  await expect(page.getByTestId("invite-link")).toBeVisible();
  await expectAccessible(page, "the Members page with an invitation link and a pending invitation");
  const link = (await page.getByTestId("invite-link").textContent())!.trim();
  const token = new URL(link).pathname.split("/").pop()!;
  expect((await serverFn(page.request, "accept_invitation", { token, password: viewer.password })).status).toBe(200);
  await open(page, `/t/${tenantId}/members`);
  const viewerRow = page.locator(`[data-testid=member-row][data-email="${viewer.email}"]`);
  await expect(viewerRow).toHaveCount(1);
  await expectAccessible(page, "the Members page with a member added");
  await viewerRow.getByTestId("remove-member").click();
  const remove = page.getByRole("dialog", { name: `Remove ${viewer.email}?` });
  await expect(remove).toBeVisible();
  await expectAccessible(page, "the Remove member dialog");
  await page.keyboard.press("Escape");
  await expect(remove).toBeHidden();

  // Audit: the log of what was done above.
  await page.getByRole("navigation", { name: "Sections" }).getByRole("link", { name: "Audit log" }).click();
  await expect(page).toHaveURL(`/t/${tenantId}/audit`);
  await expect(page.getByTestId("audit-row").first()).toBeVisible();
  await expectAccessible(page, "the Audit log page");

  // Tenants (operators only): the list, and the create form's refusal.
  await page.getByRole("navigation", { name: "Sections" }).getByRole("link", { name: "Tenants" }).click();
  await expect(page).toHaveURL("/tenants");
  await hydrated(page);
  await expect(page.getByTestId("tenants-table")).toBeVisible();
  await expectAccessible(page, "the Tenants page");
  await page.getByRole("button", { name: "Create tenant" }).click();
  await expect(page.getByTestId("name-error")).toHaveText("Enter a name.");
  await expectAccessible(page, "the Tenants page with the create form's error");

  // Not found: a URL that leads nowhere, and a tenant that does not exist.
  const nowhere = await open(page, "/no-such-page");
  expect(nowhere!.status()).toBe(404);
  await expect(page.getByTestId("not-found")).toBeVisible();
  await expectAccessible(page, "the not-found page");
  const noTenant = await open(page, "/t/00000000-0000-4000-8000-000000000000/applications");
  expect(noTenant!.status()).toBe(404);
  await expect(page.getByTestId("not-found")).toBeVisible();
  await expectAccessible(page, "the not-found page of an unknown tenant");

  // A viewer: read-only Applications (expanded), Roles and Members.
  const session = await newSession(browser, viewer.email, viewer.password);
  const viewerPage = session.page;
  expect(session.tenantId).toBe(tenantId);
  await expect(viewerPage.getByTestId("user-role")).toHaveText("viewer");
  await expectAccessible(viewerPage, "the Applications page of a viewer");
  const row = appRow(viewerPage, "a11y-reports");
  await row.getByTestId("app-toggle").click();
  const details = row.getByTestId("app-details");
  await expect(details.getByTestId("scope-name")).toHaveText(["read"]);
  await expect(details.getByTestId("no-held-roles")).toBeVisible();
  await expect(details.getByTestId("usage-summary")).toBeVisible();
  await expect(details.getByTestId("cred-client-id")).toHaveText(clientId);
  await expectAccessible(viewerPage, "an expanded application, as a viewer");
  await open(viewerPage, `/t/${tenantId}/roles`);
  await expect(viewerPage.getByTestId("role-row")).toHaveCount(1);
  await expectAccessible(viewerPage, "the Roles page of a viewer");
  await open(viewerPage, `/t/${tenantId}/keys`);
  await expect(viewerPage.getByTestId("key-row")).toHaveCount(1);
  await expectAccessible(viewerPage, "the Signing keys page of a viewer");
  const listed = await serverFn(page.request, "add_directory_user", {
    tenant_id: tenantId,
    email: `a11y-listed-${Date.now()}@example.com`,
    password: "long-enough-passphrase",
  });
  expect(listed.status).toBe(200);
  await open(viewerPage, `/t/${tenantId}/users`);
  await expect(viewerPage.getByTestId("users-table")).toContainText(listed.body.email);
  await expectAccessible(viewerPage, "the Users page of a viewer");
  await open(viewerPage, `/t/${tenantId}/members`);
  await expect(viewerPage.getByTestId("members-table")).toContainText(viewer.email);
  await expectAccessible(viewerPage, "the Members page of a viewer");

  // Removed from the tenant, the viewer belongs to none: the home page says so.
  await open(page, `/t/${tenantId}/members`);
  await viewerRow.getByTestId("remove-member").click();
  await remove.getByTestId("confirm-remove").click();
  await expect(remove).toBeHidden();
  await expect(viewerRow).toHaveCount(0);
  await open(viewerPage, "/");
  await expect(viewerPage.getByTestId("no-tenant")).toBeVisible();
  await expectAccessible(viewerPage, "the home page of a user in no tenant");
  expect(session.errors).toEqual([]);
  await session.context.close();
});

test("two-factor sign-in: the account section, the code step and a tenant that requires it", async ({ browser }) => {
  test.setTimeout(120_000);
  // Required here rather than imported at the top, to keep this test's
  // additions to the file in one place.
  const { cli } = require("./helpers") as typeof import("./helpers");
  const { totp } = require("./totp") as typeof import("./totp");
  const password = "saffron-meadow-compass-63";
  const tenant = cli(["tenant", "create", "--name", `A11y two-factor ${Date.now() % 100000}`]);
  const email = `a11y-totp-${Date.now() % 1000000}@example.test`;
  cli(["member", "add", "--tenant", tenant.tenantId, "--email", email, "--role", "admin"], { CLAVIS_MEMBER_PASSWORD: password });
  const session = await newSession(browser, email, password);
  const own = session.page;

  await open(own, "/account");
  await expect(own.getByTestId("totp-begin")).toBeVisible();
  await expectAccessible(own, "the account page with two-factor sign-in off");
  await own.getByTestId("totp-begin-password").fill(password);
  await own.getByTestId("totp-begin").click();
  await expect(own.getByTestId("totp-qr")).toBeVisible();
  await expectAccessible(own, "the account page setting up two-factor sign-in");
  const secret = (await own.getByTestId("totp-secret").textContent())!.trim();
  await own.getByTestId("totp-confirm-code").fill(totp(secret, Math.floor(Date.now() / 1000)));
  await own.getByTestId("totp-confirm").click();
  await expect(own.getByTestId("recovery-code-item")).toHaveCount(10);
  await expectAccessible(own, "the recovery codes");
  await own.getByTestId("recovery-codes-done").click();
  await expect(own.getByTestId("totp-disable")).toBeVisible();
  await expectAccessible(own, "the account page with two-factor sign-in on");

  await open(own, `/t/${tenant.tenantId}/security`);
  await own.getByTestId("require-2fa").check();
  await expect(own.getByTestId("notice")).toContainText("Admins now need two-factor sign-in.");
  await expectAccessible(own, "the Security page");

  await own.getByTestId("logout").click();
  await expect(own).toHaveURL(/\/login$/);
  await hydrated(own);
  await own.getByLabel("Email").fill(email);
  await own.getByLabel("Password").fill(password);
  await own.getByRole("button", { name: "Sign in" }).click();
  await expect(own.getByTestId("second-factor-form")).toBeVisible();
  await expectAccessible(own, "the sign-in code step");
  await own.getByTestId("toggle-recovery").click();
  await expect(own.getByTestId("recovery-code")).toBeVisible();
  await expectAccessible(own, "the sign-in recovery code step");

  // An admin without a second factor, in the tenant that requires one.
  const other = `a11y-totp-other-${Date.now() % 1000000}@example.test`;
  cli(["member", "add", "--tenant", tenant.tenantId, "--email", other, "--role", "admin"], { CLAVIS_MEMBER_PASSWORD: password });
  const context = await browser.newContext({ baseURL: state().baseURL });
  const otherPage = await context.newPage();
  const errors = watchErrors(otherPage);
  await otherPage.goto("/login");
  await hydrated(otherPage);
  await otherPage.getByLabel("Email").fill(other);
  await otherPage.getByLabel("Password").fill(password);
  await otherPage.getByRole("button", { name: "Sign in" }).click();
  await expect(otherPage).toHaveURL(/\/account$/);
  await expect(otherPage.getByTestId("totp-setup-required")).toBeVisible();
  await expectAccessible(otherPage, "the account page of an admin who must set up two-factor sign-in");
  await open(otherPage, `/t/${tenant.tenantId}/applications`);
  await expect(otherPage.getByTestId("second-factor-required")).toBeVisible();
  await expectAccessible(otherPage, "the page of a tenant that requires two-factor sign-in");
  expect(errors).toEqual([]);
  await context.close();
  expect(session.errors).toEqual([]);
  await session.context.close();
});

test("the account, invitation and reset pages have no accessibility violations", async ({ page, browser }) => {
  const { cli } = await import("./helpers");
  const { email, password, baseURL } = state();
  const tenantId = await signInToTenant(page, email, password);
  await page.getByTestId("user-email").click();
  await expect(page).toHaveURL(/\/account$/);
  await hydrated(page);
  await expectAccessible(page, "the account page");
  await page.getByTestId("password-section").getByLabel("Current password").fill(password);
  await page.getByLabel("New password", { exact: true }).fill("short");
  await page.getByLabel("New password again").fill("short");
  await page.getByTestId("change-password").click();
  await expect(page.getByTestId("password-section").getByTestId("error")).toBeVisible();
  await expectAccessible(page, "the account page with the form's error");

  const invited = await serverFn(page.request, "invite_member", {
    tenant_id: tenantId,
    email: `a11y-invitee-${Date.now() % 1000000}@example.com`,
    role: "viewer",
  });
  expect(invited.status).toBe(200);
  const resetFor = `a11y-reset-${Date.now() % 1000000}@example.com`;
  cli(["member", "add", "--tenant", tenantId, "--email", resetFor, "--role", "viewer"], {
    CLAVIS_MEMBER_PASSWORD: "a forgettable passphrase",
  });
  const reset = cli(["member", "reset-link", "--email", resetFor]);
  const context = await browser.newContext({ baseURL });
  const signedOut = await context.newPage();
  const errors = watchErrors(signedOut);
  await open(signedOut, new URL(invited.body.link.url).pathname);
  await expect(signedOut.getByTestId("accept-invite")).toBeVisible();
  await expectAccessible(signedOut, "the invitation page");
  await open(signedOut, "/invite/" + "A".repeat(43));
  await expect(signedOut.getByRole("heading", { name: "This invitation cannot be used" })).toBeVisible();
  await expectAccessible(signedOut, "the page of an unknown invitation");
  await open(signedOut, new URL(reset.resetLink).pathname);
  await expect(signedOut.getByTestId("reset-submit")).toBeVisible();
  await expectAccessible(signedOut, "the password reset page");
  expect(errors).toEqual([]);
  await context.close();
});
