// The Users page (a tenant's Cloud Directory): an admin adds a user (the
// policy shown, refusals inline, a generated password), finds them, pages
// through the directory, disables and enables them, resets their password,
// gives them a role and deletes them; each change is proved at the token
// endpoint with the password grant. Search and pages also work without
// JavaScript. A viewer sees the list only, and the server refuses a
// viewer's direct calls to every write.
import { APIRequestContext, Page } from "@playwright/test";
import { expect, test } from "./fixtures";
import { hydrated, open, serverFn, signInToTenant, state } from "./helpers";
import { viewerSession } from "./tokens";

/** A tenant of its own, so the directory starts empty and the counts are this test's. */
async function freshTenant(page: Page, label: string): Promise<string> {
  const tenant = await serverFn(page.request, "create_tenant", { name: `Users ${label} ${Date.now() % 100000}` });
  expect(tenant.status).toBe(200);
  return tenant.body.tenant_id;
}

/** An application for the password grant, defining the scope `read`. */
async function application(page: Page, tenantId: string) {
  const app = await serverFn(page.request, "create_application", { tenant_id: tenantId, name: "web-shop" });
  expect(app.status).toBe(200);
  const scoped = await serverFn(page.request, "set_application_scopes", {
    tenant_id: tenantId,
    client_id: app.body.client_id,
    "scopes[0]": "read",
  });
  expect(scoped.status).toBe(200);
  return { clientId: app.body.client_id as string, secret: app.body.secret as string };
}

function basic(clientId: string, secret: string): string {
  return `Basic ${Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(secret)}`).toString("base64")}`;
}

/**
 * A password grant (RFC 6749 §4.3). Failures are sent from an address of
 * their own (the test server trusts 127.0.0.1 as a proxy), so the sign-in
 * throttle they feed slows no other spec.
 */
async function passwordGrant(
  request: APIRequestContext,
  tenantId: string,
  client: { clientId: string; secret: string },
  username: string,
  password: string,
) {
  const reply = await request.post(`${state().baseURL}/oauth/v4/${tenantId}/token`, {
    headers: { Authorization: basic(client.clientId, client.secret), "X-Forwarded-For": "198.51.100.12" },
    form: { grant_type: "password", username, password },
  });
  return { status: reply.status(), body: await reply.json() };
}

async function refreshGrant(request: APIRequestContext, tenantId: string, client: { clientId: string; secret: string }, token: string) {
  const reply = await request.post(`${state().baseURL}/oauth/v4/${tenantId}/token`, {
    headers: { Authorization: basic(client.clientId, client.secret) },
    form: { grant_type: "refresh_token", refresh_token: token },
  });
  return { status: reply.status(), body: await reply.json() };
}

function claims(jwt: string): any {
  return JSON.parse(Buffer.from(jwt.split(".")[1], "base64url").toString("utf8"));
}

function userRow(page: Page, email: string) {
  return page.locator(`[data-testid=user-row][data-email="${email}"]`);
}

test("admins add, find, page through, disable, reset, give roles to and delete users", async ({ page, request }) => {
  test.setTimeout(240_000);
  const { email, password } = state();
  await signInToTenant(page, email, password);
  const tenantId = await freshTenant(page, "admin");
  const client = await application(page, tenantId);
  const role = await serverFn(page.request, "create_role", {
    tenant_id: tenantId,
    name: "readers",
    "access[0][application_id]": client.clientId,
    "access[0][scopes][0]": "read",
  });
  expect(role.status).toBe(200);

  // The Users link in the tenant's navigation; the directory is empty.
  await open(page, `/t/${tenantId}/applications`);
  await page.getByRole("navigation", { name: "Sections" }).getByRole("link", { name: "Users" }).click();
  await expect(page).toHaveURL(`/t/${tenantId}/users`);
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Users");
  await expect(page.getByTestId("no-users")).toBeVisible();

  // Add user: the policy is shown; a short and a common password are refused inline.
  await page.getByTestId("add-user").click();
  const add = page.getByRole("dialog", { name: "Add user" });
  await expect(add.getByLabel("Email")).toBeFocused();
  await expect(add.getByTestId("password-policy")).toHaveText("8 to 256 characters. The most common passwords are refused.");
  await add.getByLabel("Email").fill("Ada@Example.com");
  await add.getByLabel("Given name").fill("Ada");
  await add.getByLabel("Family name").fill("Lovelace");
  await add.getByLabel("Password", { exact: true }).fill("short");
  await add.getByTestId("save-user").click();
  await expect(add.getByTestId("password-error")).toHaveText("The password needs at least 8 characters; this one has 5.");
  await add.getByLabel("Password", { exact: true }).fill("password123");
  await add.getByTestId("save-user").click();
  await expect(add.getByTestId("error")).toHaveText("That password is one of the most common ones; choose another.");
  // Generate: a strong password, shown in the field (once) with a copy button.
  await add.getByTestId("generate-password").click();
  const field = add.getByLabel("Password", { exact: true });
  await expect(field).toHaveAttribute("type", "text");
  const generated = await field.inputValue();
  expect(generated).toMatch(/^[A-Za-z0-9_-]{24}$/);
  await expect(add.getByTestId("copy-password")).toBeVisible();
  await add.getByTestId("save-user").click();
  await expect(add).toBeHidden();
  await expect(page.getByTestId("notice")).toContainText("Added Ada@Example.com.");
  const ada = userRow(page, "Ada@Example.com");
  await expect(ada.getByTestId("directory-name")).toHaveText("Ada Lovelace");
  await expect(ada.getByTestId("user-active")).toHaveAttribute("aria-checked", "true");
  await expect(page.getByTestId("users-range")).toHaveText("1–1 of 1");
  expect(await page.content()).not.toContain(generated);

  // The generated password works; the same email in another case is refused.
  const first = await passwordGrant(request, tenantId, client, "ada@example.com", generated);
  expect(first.status).toBe(200);
  expect(claims(first.body.id_token).email).toBe("Ada@Example.com");
  expect(typeof first.body.refresh_token).toBe("string");
  await page.getByTestId("add-user").click();
  await add.getByLabel("Email").fill("ADA@example.com");
  await add.getByLabel("Password", { exact: true }).fill("another-long-passphrase");
  await add.getByTestId("save-user").click();
  await expect(add.getByTestId("error")).toHaveText("A user with this email already exists.");
  await page.keyboard.press("Escape");
  await expect(add).toBeHidden();

  // More than one page: 21 more users, made by the same server function a script would call.
  // Creation times are kept to the second and the listing is oldest first, so the
  // others start a second after Ada for her to be first.
  await page.waitForTimeout(1100);
  for (let i = 1; i <= 21; i++) {
    const made = await serverFn(page.request, "add_directory_user", {
      tenant_id: tenantId,
      email: `reader${String(i).padStart(2, "0")}@example.com`,
      given_name: "Reader",
      family_name: `No. ${i}`,
      password: `long-enough-passphrase-${i}`,
    });
    expect(made.status, `user ${i}`).toBe(200);
    expect(made.text).not.toContain("long-enough-passphrase");
  }
  await open(page, `/t/${tenantId}/users`);
  await expect(page.getByTestId("users-range")).toHaveText("1–20 of 22");
  await expect(page.getByTestId("user-row")).toHaveCount(20);
  await expect(page.getByTestId("users-previous")).toHaveCount(0);
  // Oldest first; Ada came at least a second before the others.
  await expect(page.getByTestId("directory-email").first()).toHaveText("Ada@Example.com");
  const firstPage = await page.getByTestId("directory-email").allTextContents();
  await page.getByTestId("users-next").click();
  await expect(page).toHaveURL(`/t/${tenantId}/users?start=21`);
  await expect(page.getByTestId("users-range")).toHaveText("21–22 of 22");
  await expect(page.getByTestId("user-row")).toHaveCount(2);
  const secondPage = await page.getByTestId("directory-email").allTextContents();
  // The two pages together are the whole directory, each user once.
  expect(new Set([...firstPage, ...secondPage]).size).toBe(22);
  await expect(page.getByTestId("users-next")).toHaveCount(0);
  await page.getByTestId("users-previous").click();
  await expect(page.getByTestId("users-range")).toHaveText("1–20 of 22");

  // Search, as one types: by name, ignoring case; then nothing matching.
  await page.getByLabel("Search users").fill("lovelace");
  await expect(page).toHaveURL(`/t/${tenantId}/users?q=lovelace`);
  await expect(page.getByTestId("user-row")).toHaveCount(1);
  await expect(page.getByTestId("users-range")).toHaveText("1–1 of 1");
  await page.getByLabel("Search users").fill("nobody-by-this-name");
  await expect(page.getByTestId("users-no-match")).toHaveText("No users match “nobody-by-this-name”.");
  await page.getByLabel("Search users").fill("Ada@");
  await expect(ada).toHaveCount(1);

  // Disable: the switch flips at once and the user can no longer sign in; enable again.
  await ada.getByTestId("user-active").click();
  await expect(ada.getByTestId("user-active")).toHaveAttribute("aria-checked", "false");
  await expect(page.getByTestId("notice")).toContainText("Disabled Ada@Example.com.");
  await expect(ada.getByTestId("user-status")).toHaveText("Disabled");
  const disabled = await passwordGrant(request, tenantId, client, "ada@example.com", generated);
  expect(disabled.status).toBe(400);
  expect(disabled.body.error).toBe("invalid_grant");
  // Disabling ended the refresh token too.
  expect((await refreshGrant(request, tenantId, client, first.body.refresh_token)).status).toBe(400);
  await ada.getByTestId("user-active").click();
  await expect(ada.getByTestId("user-active")).toHaveAttribute("aria-checked", "true");
  await expect(page.getByTestId("notice")).toContainText("Enabled Ada@Example.com.");
  const enabled = await passwordGrant(request, tenantId, client, "ada@example.com", generated);
  expect(enabled.status).toBe(200);
  // The state is the server's: a reload shows the user enabled.
  await page.reload();
  await hydrated(page);
  await expect(ada.getByTestId("user-active")).toHaveAttribute("aria-checked", "true");

  // Reset the password: the dialog says it signs them out; the new one works, the old one and the refresh token do not.
  await ada.getByTestId("reset-user-password").click();
  const reset = page.getByRole("dialog", { name: "Reset the password of Ada@Example.com?" });
  await expect(reset).toContainText("signs them out of every application");
  await expect(reset.getByTestId("password-policy")).toHaveText("8 to 256 characters. The most common passwords are refused.");
  await reset.getByLabel("New password").fill("tiny");
  await reset.getByTestId("confirm-reset-password").click();
  await expect(reset.getByTestId("password-error")).toHaveText("The password needs at least 8 characters; this one has 4.");
  await reset.getByLabel("New password").fill("analytical-engine-1843");
  await reset.getByTestId("confirm-reset-password").click();
  await expect(reset).toBeHidden();
  await expect(page.getByTestId("notice")).toContainText("Set a new password for Ada@Example.com.");
  expect((await passwordGrant(request, tenantId, client, "ada@example.com", "analytical-engine-1843")).status).toBe(200);
  const old = await passwordGrant(request, tenantId, client, "ada@example.com", generated);
  expect(old.status).toBe(400);
  expect(old.body.error).toBe("invalid_grant");
  expect((await refreshGrant(request, tenantId, client, enabled.body.refresh_token)).status).toBe(400);

  // Roles: without one, the user's token has no `read`; with the role, it does.
  const before = await passwordGrant(request, tenantId, client, "ada@example.com", "analytical-engine-1843");
  expect(before.body.scope.split(" ")).not.toContain("read");
  await ada.getByTestId("user-roles").click();
  const roles = page.getByRole("dialog", { name: "Roles of Ada@Example.com" });
  await roles.getByLabel("readers").check();
  await roles.getByTestId("save-user-roles").click();
  await expect(roles).toBeHidden();
  await expect(page.getByTestId("notice")).toContainText("Ada@Example.com holds readers now.");
  const after = await passwordGrant(request, tenantId, client, "ada@example.com", "analytical-engine-1843");
  expect(after.status).toBe(200);
  expect(after.body.scope.split(" ")).toContain("read");
  await ada.getByTestId("user-roles").click();
  await expect(roles.getByLabel("readers")).toBeChecked();
  await page.keyboard.press("Escape");

  // Delete: the confirmation names the email; Cancel keeps the user, confirming deletes them.
  await ada.getByTestId("delete-user").click();
  const remove = page.getByRole("dialog", { name: "Delete Ada@Example.com?" });
  await expect(remove).toBeVisible();
  await remove.getByRole("button", { name: "Cancel" }).click();
  await expect(remove).toBeHidden();
  await expect(ada).toHaveCount(1);
  await ada.getByTestId("delete-user").click();
  await remove.getByTestId("confirm-delete-user").click();
  await expect(remove).toBeHidden();
  await expect(page.getByTestId("notice")).toContainText("Deleted Ada@Example.com.");
  await expect(page.getByTestId("users-no-match")).toBeVisible();
  const gone = await passwordGrant(request, tenantId, client, "ada@example.com", "analytical-engine-1843");
  expect(gone.status).toBe(400);
  await open(page, `/t/${tenantId}/users`);
  await expect(page.getByTestId("users-range")).toHaveText("1–20 of 21");
});

test("search and pages work without JavaScript", async ({ page, browser }) => {
  const { email, password, baseURL } = state();
  await signInToTenant(page, email, password);
  const tenantId = await freshTenant(page, "nojs");
  for (let i = 1; i <= 21; i++) {
    const made = await serverFn(page.request, "add_directory_user", {
      tenant_id: tenantId,
      email: `plain${String(i).padStart(2, "0")}@example.com`,
      password: `long-enough-passphrase-${i}`,
    });
    expect(made.status).toBe(200);
  }
  const context = await browser.newContext({ baseURL, javaScriptEnabled: false, storageState: await page.context().storageState() });
  const plain = await context.newPage();
  await plain.goto(`/t/${tenantId}/users`);
  await expect(plain.getByTestId("users-range")).toHaveText("1–20 of 21");
  await plain.getByTestId("users-next").click();
  await expect(plain).toHaveURL(`/t/${tenantId}/users?start=21`);
  await expect(plain.getByTestId("users-range")).toHaveText("21–21 of 21");
  await expect(plain.getByTestId("user-row")).toHaveCount(1);
  await plain.getByLabel("Search users").fill("plain07");
  await plain.getByRole("button", { name: "Search" }).click();
  await expect(plain).toHaveURL(`/t/${tenantId}/users?q=plain07`);
  await expect(plain.getByTestId("directory-email")).toHaveText(["plain07@example.com"]);
  await context.close();
});

test("a viewer sees the users but no write control, and the server refuses a viewer's writes", async ({ page, browser }) => {
  const { email, password } = state();
  await signInToTenant(page, email, password);
  const tenantId = await freshTenant(page, "viewer");
  const made = await serverFn(page.request, "add_directory_user", {
    tenant_id: tenantId,
    email: "grace@example.com",
    given_name: "Grace",
    family_name: "Hopper",
    password: "compilers-all-the-way",
  });
  expect(made.status).toBe(200);
  const { id: userId, profile_id: profileId } = made.body;
  const role = await serverFn(page.request, "create_role", { tenant_id: tenantId, name: "auditors" });
  expect(role.status).toBe(200);

  const viewer = await viewerSession(browser, tenantId, "users");
  await open(viewer.page, `/t/${tenantId}/users`);
  const grace = userRow(viewer.page, "grace@example.com");
  await expect(grace.getByTestId("directory-name")).toHaveText("Grace Hopper");
  await expect(grace.getByTestId("user-status")).toHaveText("Active");
  for (const testId of ["add-user", "user-active", "reset-user-password", "user-roles", "delete-user"]) {
    await expect(viewer.page.getByTestId(testId), testId).toHaveCount(0);
  }
  // Reading is allowed; every write answers 403 and changes nothing.
  expect((await serverFn(viewer.page.request, "list_directory_users", { tenant_id: tenantId })).status).toBe(200);
  for (const [name, form] of [
    ["add_directory_user", { tenant_id: tenantId, email: "sneaky@example.com", password: "long-enough-passphrase" }],
    ["set_directory_user_active", { tenant_id: tenantId, user_id: userId, active: "false" }],
    ["reset_directory_password", { tenant_id: tenantId, user_id: userId, new_password: "long-enough-passphrase" }],
    ["set_directory_user_roles", { tenant_id: tenantId, profile_id: profileId, "role_ids[0]": role.body.id }],
    ["delete_directory_user", { tenant_id: tenantId, user_id: userId }],
  ] as const) {
    const refused = await serverFn(viewer.page.request, name, form);
    expect(refused.status, name).toBe(403);
    expect(refused.body, name).toEqual({ kind: "Forbidden", message: "Your role does not allow this." });
  }
  const list = await serverFn(page.request, "list_directory_users", { tenant_id: tenantId });
  expect(list.body.total).toBe(1);
  expect(list.body.users[0].active).toBe(true);
  const held = await serverFn(page.request, "directory_user_roles", { tenant_id: tenantId, profile_id: profileId });
  expect(held.body).toEqual([]);
  expect(viewer.errors).toEqual([]);
  await viewer.context.close();
});
