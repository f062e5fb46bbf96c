// Members and roles: an admin adds a viewer on the Members page; the viewer
// sees applications read-only, and the server refuses a viewer's calls to
// the admin-only server functions even when made directly. The last admin
// of a tenant can be neither demoted nor removed.
import { expect, test, watchErrors } from "./fixtures";
import { appRow, hydrated, open, serverFn, signInToTenant, state } from "./helpers";

const viewer = { email: "viewer@example.com", password: "a reader of the reports" };

test("admins manage members; the last admin is protected; a viewer is read-only", async ({ page, browser }) => {
  const { email, password, baseURL } = state();
  const tenantId = await signInToTenant(page, email, password);

  // An application for the viewer to look at, and its secret (as the admin).
  const app = await serverFn(page.request, "create_application", { tenant_id: tenantId, name: "reporting-api" });
  expect(app.status).toBe(200);
  const clientId: string = app.body.client_id;
  const adminSecret: string = app.body.secret;
  expect(adminSecret).toMatch(/^[A-Za-z0-9_-]{43}$/);

  await page.getByRole("link", { name: "Members" }).click();
  await expect(page).toHaveURL(`/t/${tenantId}/members`);
  await hydrated(page);
  await page.getByLabel("Email", { exact: true }).fill("not-an-email");
  await page.getByLabel("Role", { exact: true }).selectOption("viewer");
  await page.getByRole("button", { name: "Invite", exact: true }).click();
  await expect(page.getByTestId("error")).toHaveText("Enter the email address of the person to invite.");
  await page.getByLabel("Email", { exact: true }).fill(viewer.email);
  await page.getByRole("button", { name: "Invite", exact: true }).click();
  const link = (await page.getByTestId("invite-link").textContent())!.trim();
  const token = new URL(link).pathname.split("/").pop()!;
  expect((await serverFn(page.request, "accept_invitation", { token, password: viewer.password })).status).toBe(200);
  await open(page, `/t/${tenantId}/members`);
  const viewerRow = page.locator(`[data-testid=member-row][data-email="${viewer.email}"]`);
  await expect(viewerRow.getByTestId("member-role")).toHaveValue("viewer");

  // The only admin can be neither demoted nor removed.
  const adminRow = page.locator(`[data-testid=member-row][data-email="${email}"]`);
  await adminRow.getByTestId("member-role").selectOption("viewer");
  await expect(page.getByTestId("error")).toHaveText("The last admin of a tenant cannot be demoted.");
  await expect(adminRow.getByTestId("member-role")).toHaveValue("admin");
  await adminRow.getByTestId("remove-member").click();
  const remove = page.getByRole("dialog", { name: `Remove ${email}?` });
  await remove.getByTestId("confirm-remove").click();
  await expect(remove.getByTestId("error")).toHaveText("The last admin of a tenant cannot be removed.");
  await page.keyboard.press("Escape");
  await expect(remove).toBeHidden();
  await page.reload();
  await expect(adminRow.getByTestId("member-role")).toHaveValue("admin");

  // The viewer, in a browser of their own.
  const viewerContext = await browser.newContext({ baseURL });
  const viewerPage = await viewerContext.newPage();
  const viewerErrors = watchErrors(viewerPage);
  expect(await signInToTenant(viewerPage, viewer.email, viewer.password)).toBe(tenantId);
  await expect(viewerPage.getByTestId("user-role")).toHaveText("viewer");
  const row = appRow(viewerPage, "reporting-api");
  await expect(row).toHaveCount(1);
  await expect(viewerPage.getByTestId("add-application")).toHaveCount(0);
  await row.getByTestId("app-toggle").click();
  const details = row.getByTestId("app-details");
  await expect(details.getByTestId("cred-client-id")).toHaveText(clientId);
  await expect(details.getByTestId("cred-oauth-url")).toHaveText(`${baseURL}/oauth/v4/${tenantId}`);
  for (const testId of ["reveal-secret", "copy-secret", "rotate-secret", "rename-application", "delete-application"]) {
    await expect(details.getByTestId(testId)).toHaveCount(0);
  }
  await expect(details.getByTestId("secret-value")).not.toContainText(adminSecret.slice(0, 8));
  await expect(viewerPage.getByRole("link", { name: "Members" })).toHaveCount(0);
  expect(await viewerPage.content()).not.toContain(adminSecret);

  // Calling the server functions directly is refused, and reveals nothing.
  const reveal = await serverFn(viewerPage.request, "reveal_secret", { tenant_id: tenantId, client_id: clientId });
  expect(reveal.status).toBe(403);
  expect(reveal.body).toEqual({ kind: "Forbidden", message: "Your role does not allow this." });
  expect(reveal.text).not.toContain(adminSecret);
  for (const [name, form] of [
    ["create_application", { tenant_id: tenantId, name: "sneaky" }],
    ["rotate_secret", { tenant_id: tenantId, client_id: clientId, grace_secs: "0" }],
    ["rename_application", { tenant_id: tenantId, client_id: clientId, name: "renamed" }],
    ["delete_application", { tenant_id: tenantId, client_id: clientId }],
    ["invite_member", { tenant_id: tenantId, email: "friend@example.com", role: "admin" }],
  ] as const) {
    const refused = await serverFn(viewerPage.request, name, form);
    expect(refused.status, name).toBe(403);
  }
  // The application is untouched and its secret still the admin's.
  const after = await serverFn(page.request, "get_application", { tenant_id: tenantId, client_id: clientId });
  expect(after.body.name).toBe("reporting-api");
  const revealed = await serverFn(page.request, "reveal_secret", { tenant_id: tenantId, client_id: clientId });
  expect(revealed.body).toBe(adminSecret);

  // A state-changing call from another origin is refused before it runs.
  const crossSite = await viewerPage.request.post("/api/list_applications", {
    form: { tenant_id: tenantId, filter: "" },
    headers: { Origin: "http://evil.example" },
  });
  expect(crossSite.status()).toBe(403);

  // Signed out, every call is unauthenticated.
  const anonymous = await browser.newContext({ baseURL });
  const noSession = await serverFn(anonymous.request, "list_applications", { tenant_id: tenantId, filter: "" });
  expect(noSession.status).toBe(401);
  expect(noSession.body.kind).toBe("Unauthenticated");
  await anonymous.close();

  // The viewer's Members page is a read-only list.
  await open(viewerPage, `/t/${tenantId}/members`);
  await expect(viewerPage.getByTestId("members-table")).toContainText(email);
  await expect(viewerPage.getByRole("button", { name: "Invite", exact: true })).toHaveCount(0);
  await expect(viewerPage.getByTestId("remove-member")).toHaveCount(0);
  expect(viewerErrors).toEqual([]);
  await viewerContext.close();
});
