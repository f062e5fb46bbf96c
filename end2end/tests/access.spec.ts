// Access control in the dashboard: an admin gives a protected application
// scopes and an identifier, creates a role granting one of its scopes and
// assigns it to a caller; the caller's "Request a token" snippet then asks
// for a token for the protected application, and running it as shown gets
// that scope. A viewer sees all of it read-only, and the server refuses the
// viewer's changes even when the server functions are called directly.
import { execFileSync } from "node:child_process";
import { expect, test, watchErrors } from "./fixtures";
import { appRow, open, serverFn, signInToTenant, state } from "./helpers";

/** Runs the snippet as a person would paste it into a shell; returns the token endpoint's JSON answer. */
function runSnippet(command: string, secret: string): any {
  const out = execFileSync("sh", ["-c", `${command} --silent --show-error`], {
    encoding: "utf8",
    env: { ...process.env, CLAVIS_CLIENT_SECRET: secret },
  });
  return JSON.parse(out);
}

/** The claims of a JWT, unverified (the JOSE spec checks signatures). */
function claims(token: string): any {
  return JSON.parse(Buffer.from(token.split(".")[1], "base64url").toString("utf8"));
}

/** Adds an application through the dialog; the new row opens. */
async function addApplication(page: import("@playwright/test").Page, name: string) {
  await page.getByTestId("add-application").first().click();
  const dialog = page.getByRole("dialog", { name: "Add application" });
  await dialog.getByLabel("Name").fill(name);
  await dialog.getByRole("button", { name: "Save" }).click();
  await expect(dialog).toBeHidden();
  const details = appRow(page, name).getByTestId("app-details");
  await expect(details).toBeVisible();
  const clientId = (await details.getByTestId("cred-client-id").textContent())!.trim();
  const secret = (await details.getByTestId("secret-value").textContent())!.trim();
  expect(secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
  return { details, clientId, secret };
}

test("scopes, an identifier and a role give a caller a token for the protected application; viewers only look", async ({
  page,
  browser,
}) => {
  const { email, password, baseURL } = state();
  // Unique per run: the test server's users outlive a test (--repeat-each).
  const viewer = { email: `access-viewer-${Date.now()}@example.com`, password: "a viewer of the access test" };
  const defaultTenant = await signInToTenant(page, email, password);
  const tenant = await serverFn(page.request, "create_tenant", { name: "Access Co" });
  expect(tenant.status).toBe(200);
  const tenantId: string = tenant.body.tenant_id;
  await open(page, `/t/${tenantId}/applications`);

  // The protected application and its scopes, with the rules checked as you type.
  const api = await addApplication(page, "inventory-api");
  const scopes = api.details.getByTestId("scopes-card");
  await expect(scopes.getByTestId("no-scopes")).toBeVisible();
  const newScope = scopes.getByLabel("New scope");
  const addScope = scopes.getByRole("button", { name: "Add scope" });
  for (const [typed, message] of [
    ["Read", `Scope "Read" may contain only lowercase letters, digits, '.' and '_'.`],
    ["appid_read", `Scope "appid_read" must not start with appid or openid.`],
    ["  ", "Enter a scope name."],
  ]) {
    await newScope.fill(typed);
    await addScope.click();
    await expect(scopes.getByTestId("scope-error")).toHaveText(message);
    await expect(newScope).toHaveAttribute("aria-invalid", "true");
  }
  await newScope.fill("read");
  await addScope.click();
  await expect(scopes.getByTestId("scope-name")).toHaveText(["read"]);
  await expect(newScope).toHaveValue("");
  await newScope.fill("read");
  await addScope.click();
  await expect(scopes.getByTestId("scope-error")).toHaveText(`Scope "read" is listed twice.`);
  await newScope.fill("write");
  await addScope.click();
  await expect(scopes.getByTestId("scope-name")).toHaveText(["read", "write"]);
  // The server applies the same rules, with the same words, when the page is bypassed.
  const refused = await serverFn(page.request, "set_application_scopes", {
    tenant_id: tenantId,
    client_id: api.clientId,
    "scopes[0]": "read",
    "scopes[1]": "Write",
  });
  expect(refused.status).toBe(400);
  expect(refused.body).toEqual({
    kind: "Validation",
    message: `Scope "Write" may contain only lowercase letters, digits, '.' and '_'.`,
  });
  const stored = await serverFn(page.request, "application_scopes", { tenant_id: tenantId, client_id: api.clientId });
  expect(stored.body).toEqual(["read", "write"]);

  // Its identifier: the server's refusal shows next to the field.
  const identifier = api.details.getByTestId("identifier-card");
  const identifierInput = identifier.getByLabel("Identifier");
  await identifierInput.fill("http://inventory.example");
  await identifier.getByRole("button", { name: "Save identifier" }).click();
  await expect(identifier.getByTestId("identifier-error")).toHaveText(
    "Identifier must be an absolute https:// URI (http:// only on a loopback host), without a fragment.",
  );
  await identifierInput.fill("https://inventory.example");
  await identifier.getByRole("button", { name: "Save identifier" }).click();
  await expect(page.getByTestId("notice")).toContainText("The identifier of inventory-api is now https://inventory.example.");
  await expect(identifier.getByTestId("identifier-error")).toHaveText("");
  const fetched = await serverFn(page.request, "get_application", { tenant_id: tenantId, client_id: api.clientId });
  expect(fetched.body.identifier).toBe("https://inventory.example");
  expect(fetched.body.name).toBe("inventory-api");

  // A role granting `read` on it, made on the Roles page.
  await page.getByRole("navigation", { name: "Sections" }).getByRole("link", { name: "Roles" }).click();
  await expect(page).toHaveURL(`/t/${tenantId}/roles`);
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Roles");
  await expect(page.getByTestId("no-roles")).toBeVisible();
  await page.getByTestId("create-role").click();
  const create = page.getByRole("dialog", { name: "Create role" });
  await expect(create.getByLabel("Name")).toBeFocused();
  await create.getByLabel("Name").fill("inventory-reader");
  await create.getByLabel("Description").fill("Reads the inventory");
  const createGrants = create.getByRole("group", { name: "inventory-api" });
  await expect(createGrants.getByRole("checkbox")).toHaveCount(2);
  await createGrants.getByLabel("read", { exact: true }).check();
  await create.getByTestId("save-role").click();
  await expect(create).toBeHidden();
  await expect(page.getByTestId("notice")).toContainText("Created the role inventory-reader.");
  const reader = page.locator('[data-testid=role-row][data-name="inventory-reader"]');
  await expect(reader.getByTestId("role-description")).toHaveText("Reads the inventory");
  await expect(reader.getByTestId("role-grants")).toHaveText("inventory-api: read");

  // The caller holds it; its snippet now names the protected application.
  await page.getByRole("navigation", { name: "Sections" }).getByRole("link", { name: "Applications" }).click();
  await expect(page).toHaveURL(`/t/${tenantId}/applications`);
  const caller = await addApplication(page, "order-service");
  const curl = caller.details.getByTestId("curl");
  await expect(curl).not.toContainText("audience");
  const roleBox = caller.details.getByTestId("roles-card").getByLabel("inventory-reader");
  await roleBox.check();
  await expect(roleBox).toBeChecked();
  await expect(curl).toContainText(`-d 'audience=${api.clientId}'`);
  await expect(curl).toContainText(`--data-urlencode 'scope=read'`);
  await expect(caller.details.getByTestId("curl-target")).toContainText(api.clientId);
  const held = await serverFn(page.request, "application_roles", { tenant_id: tenantId, client_id: caller.clientId });
  expect(held.body.map((role: any) => role.name)).toEqual(["inventory-reader"]);

  // Run the command exactly as the page shows it.
  const command = (await curl.textContent())!;
  expect(command).toContain(caller.secret);
  const answer = runSnippet(command, "not-used");
  expect(answer.scope).toBe("appid_default read");
  expect(answer.token_type).toBe("Bearer");
  const audience = [claims(answer.access_token).aud].flat();
  expect(audience).toContain(api.clientId);
  expect(audience).toContain("https://inventory.example");

  // Edit the role: a new name and `write` too; the caller's next token has both.
  await page.getByRole("navigation", { name: "Sections" }).getByRole("link", { name: "Roles" }).click();
  await reader.getByRole("button", { name: "Edit inventory-reader" }).click();
  const edit = page.getByRole("dialog", { name: "Edit role" });
  await expect(edit.getByLabel("Name")).toHaveValue("inventory-reader");
  await expect(edit.getByLabel("Description")).toHaveValue("Reads the inventory");
  const editGrants = edit.getByRole("group", { name: "inventory-api" });
  await expect(editGrants.getByLabel("read", { exact: true })).toBeChecked();
  await expect(editGrants.getByLabel("write", { exact: true })).not.toBeChecked();
  await edit.getByLabel("Name").fill("inventory-editor");
  await edit.getByLabel("Description").fill("Reads and changes the inventory");
  await editGrants.getByLabel("write", { exact: true }).check();
  await edit.getByTestId("save-role").click();
  await expect(edit).toBeHidden();
  const editor = page.locator('[data-testid=role-row][data-name="inventory-editor"]');
  await expect(editor.getByTestId("role-grants")).toHaveText("inventory-api: read, write");
  await expect(reader).toHaveCount(0);
  const roles = await serverFn(page.request, "list_roles", { tenant_id: tenantId });
  expect(roles.body).toHaveLength(1);
  const roleId: string = roles.body[0].id;
  expect(roles.body[0]).toMatchObject({
    name: "inventory-editor",
    description: "Reads and changes the inventory",
    access: [{ application_id: api.clientId, scopes: ["read", "write"] }],
  });

  await page.getByRole("navigation", { name: "Sections" }).getByRole("link", { name: "Applications" }).click();
  const callerRow = appRow(page, "order-service");
  await callerRow.getByTestId("app-toggle").click();
  const callerCurl = callerRow.getByTestId("app-details").getByTestId("curl");
  await expect(callerCurl).toContainText(`--data-urlencode 'scope=read write'`);
  // The secret is hidden again, so the command reads it from the shell.
  await expect(callerCurl).toContainText("$CLAVIS_CLIENT_SECRET");
  const editedCommand = (await callerCurl.textContent())!;
  const both = runSnippet(editedCommand, caller.secret);
  expect(both.scope).toBe("appid_default read write");

  // A viewer of the tenant sees it all and can change none of it.
  const invited = await serverFn(page.request, "invite_member", { tenant_id: tenantId, email: viewer.email, role: "viewer" });
  expect(invited.status).toBe(200);
  const token = new URL(invited.body.link.url).pathname.split("/").pop()!;
  const accepted = await serverFn(page.request, "accept_invitation", { token, password: viewer.password });
  expect(accepted.status).toBe(200);
  const viewerContext = await browser.newContext({ baseURL });
  const viewerPage = await viewerContext.newPage();
  const viewerErrors = watchErrors(viewerPage);
  expect(await signInToTenant(viewerPage, viewer.email, viewer.password)).toBe(tenantId);
  // Rows open one at a time: look at each while it is open.
  const noEditControls = async () => {
    for (const testId of ["new-scope", "add-scope", "remove-scope", "identifier-input", "save-identifier", "remove-identifier", "role-checkbox"]) {
      await expect(viewerPage.getByTestId(testId), testId).toHaveCount(0);
    }
    await expect(viewerPage.getByRole("checkbox")).toHaveCount(0);
    await expect(viewerPage.getByRole("textbox")).toHaveCount(0);
  };
  const viewerApi = appRow(viewerPage, "inventory-api");
  await viewerApi.getByTestId("app-toggle").click();
  const viewerApiDetails = viewerApi.getByTestId("app-details");
  await expect(viewerApiDetails.getByTestId("scope-name")).toHaveText(["read", "write"]);
  await expect(viewerApiDetails.getByTestId("identifier-value")).toHaveText("https://inventory.example");
  await expect(viewerApiDetails.getByTestId("no-held-roles")).toHaveText("None");
  await noEditControls();
  const viewerCaller = appRow(viewerPage, "order-service");
  await viewerCaller.getByTestId("app-toggle").click();
  const viewerCallerDetails = viewerCaller.getByTestId("app-details");
  await expect(viewerCallerDetails.getByTestId("held-role")).toHaveText(["inventory-editor"]);
  await expect(viewerCallerDetails.getByTestId("no-scopes")).toBeVisible();
  await expect(viewerCallerDetails.getByTestId("identifier-value")).toHaveText("None");
  await expect(viewerCallerDetails.getByTestId("curl")).toContainText(`-d 'audience=${api.clientId}'`);
  await expect(viewerCallerDetails.getByTestId("curl")).toContainText(`--data-urlencode 'scope=read write'`);
  await noEditControls();

  await viewerPage.getByRole("navigation", { name: "Sections" }).getByRole("link", { name: "Roles" }).click();
  await expect(viewerPage).toHaveURL(`/t/${tenantId}/roles`);
  const viewerRole = viewerPage.locator('[data-testid=role-row][data-name="inventory-editor"]');
  await expect(viewerRole.getByTestId("role-grants")).toHaveText("inventory-api: read, write");
  for (const testId of ["create-role", "edit-role", "delete-role"]) {
    await expect(viewerPage.getByTestId(testId), testId).toHaveCount(0);
  }
  await expect(viewerPage.getByRole("button", { name: "Create role" })).toHaveCount(0);

  // Reading is allowed; every change is refused with 403 and changes nothing.
  for (const [name, form] of [
    ["list_roles", { tenant_id: tenantId }],
    ["application_scopes", { tenant_id: tenantId, client_id: api.clientId }],
    ["application_roles", { tenant_id: tenantId, client_id: caller.clientId }],
    ["role_holders", { tenant_id: tenantId, role_id: roleId }],
  ] as const) {
    expect((await serverFn(viewerPage.request, name, form)).status, name).toBe(200);
  }
  for (const [name, form] of [
    ["set_application_scopes", { tenant_id: tenantId, client_id: api.clientId, "scopes[0]": "admin" }],
    ["set_application_identifier", { tenant_id: tenantId, client_id: api.clientId, name: "inventory-api" }],
    ["set_application_roles", { tenant_id: tenantId, client_id: caller.clientId }],
    ["create_role", { tenant_id: tenantId, name: "sneaky" }],
    ["update_role", { tenant_id: tenantId, role_id: roleId, name: "sneaky" }],
    ["delete_role", { tenant_id: tenantId, role_id: roleId }],
  ] as const) {
    const answer = await serverFn(viewerPage.request, name, form);
    expect(answer.status, name).toBe(403);
    expect(answer.body, name).toEqual({ kind: "Forbidden", message: "Your role does not allow this." });
  }
  const after = await serverFn(page.request, "get_application", { tenant_id: tenantId, client_id: api.clientId });
  expect(after.body.identifier).toBe("https://inventory.example");
  expect((await serverFn(page.request, "application_scopes", { tenant_id: tenantId, client_id: api.clientId })).body).toEqual([
    "read",
    "write",
  ]);
  expect((await serverFn(page.request, "list_roles", { tenant_id: tenantId })).body).toEqual(roles.body);
  expect(
    (await serverFn(page.request, "application_roles", { tenant_id: tenantId, client_id: caller.clientId })).body,
  ).toEqual([{ id: roleId, name: "inventory-editor" }]);

  // Another tenant's roles stay out of the viewer's sight.
  const elsewhere = await open(viewerPage, `/t/${defaultTenant}/roles`);
  expect(elsewhere!.status()).toBe(404);
  await expect(viewerPage.getByTestId("not-found")).toBeVisible();
  expect((await serverFn(viewerPage.request, "list_roles", { tenant_id: defaultTenant })).status).toBe(404);
  expect(viewerErrors).toEqual([]);
  await viewerContext.close();

  // Deleting the role names the application holding it; the caller then
  // gets no token for the protected application.
  await page.getByRole("navigation", { name: "Sections" }).getByRole("link", { name: "Roles" }).click();
  await editor.getByRole("button", { name: "Delete inventory-editor" }).click();
  const remove = page.getByRole("dialog", { name: "Delete the role inventory-editor?" });
  await expect(remove.getByTestId("role-holders")).toHaveText("order-service");
  await remove.getByTestId("confirm-delete-role").click();
  await expect(remove).toBeHidden();
  await expect(page.getByTestId("notice")).toContainText("Deleted the role inventory-editor.");
  await expect(page.getByTestId("no-roles")).toBeVisible();
  const refusedToken = runSnippet(editedCommand, caller.secret);
  expect(refusedToken.error).toBe("invalid_target");
  expect(
    (await serverFn(page.request, "application_roles", { tenant_id: tenantId, client_id: caller.clientId })).body,
  ).toEqual([]);
});
