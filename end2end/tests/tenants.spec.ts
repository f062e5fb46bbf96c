// Operators and isolation: an operator creates and opens a tenant; a member
// of another tenant who opens its URLs sees the not-found page and none of
// its data; the audit log lists a tenant's acts newest first, a page at a time.
import { expect, test, watchErrors } from "./fixtures";
import { appRow, cli, hydrated, open, serverFn, signInToTenant, state, tenantIdOf } from "./helpers";

const outsider = { email: "a-member@example.com", password: "an outsider of tenant b" };

test("an operator creates a tenant that members of other tenants cannot see", async ({ page, browser }) => {
  const { email, password, baseURL } = state();
  const defaultTenant = await signInToTenant(page, email, password);

  await page.getByRole("link", { name: "Tenants" }).click();
  await expect(page).toHaveURL("/tenants");
  await hydrated(page);
  await page.getByRole("button", { name: "Create tenant" }).click();
  await expect(page.getByTestId("name-error")).toHaveText("Enter a name.");
  await expect(page.getByTestId("name-counter")).toHaveText("0/100");
  await page.getByLabel("New tenant name").fill("Tenant B");
  await page.getByRole("button", { name: "Create tenant" }).click();
  await expect(page.getByTestId("notice")).toContainText("Created tenant Tenant B.");
  const row = page.getByTestId("tenant-row").filter({ hasText: "Tenant B" });
  await expect(row).toHaveCount(1);
  await row.getByRole("link", { name: "Open Tenant B" }).click();
  await expect(page).toHaveURL(/\/t\/[0-9a-f-]{36}\/applications$/);
  await hydrated(page);
  const tenantB = tenantIdOf(page);
  expect(tenantB).not.toBe(defaultTenant);
  await expect(page.getByTestId("tenant-name")).toHaveText("Tenant B");
  await expect(page.getByTestId("empty-state")).toContainText("No applications yet");

  // The empty state's own button adds the first application.
  await page.getByTestId("empty-state").getByRole("button", { name: "Add application" }).click();
  await page.getByRole("dialog", { name: "Add application" }).getByLabel("Name").fill("tenant-b-payroll");
  await page.getByRole("button", { name: "Save" }).click();
  await expect(appRow(page, "tenant-b-payroll")).toHaveCount(1);
  const bSecret = (await page.getByTestId("secret-value").textContent())!.trim();

  // A member of the Default tenant only (added with the CLI).
  const added = cli(["member", "add", "--tenant", defaultTenant, "--email", outsider.email, "--role", "admin"], {
    CLAVIS_MEMBER_PASSWORD: outsider.password,
  });
  expect(added.role).toBe("admin");
  const outsiderContext = await browser.newContext({ baseURL });
  const outsiderPage = await outsiderContext.newPage();
  const outsiderErrors = watchErrors(outsiderPage);
  expect(await signInToTenant(outsiderPage, outsider.email, outsider.password)).toBe(defaultTenant);
  await expect(outsiderPage.getByTestId("tenant-switcher").locator("option")).toHaveText(["Default"]);

  for (const section of ["applications", "members", "audit"]) {
    const response = await open(outsiderPage, `/t/${tenantB}/${section}`);
    expect(response!.status(), section).toBe(404);
    await expect(outsiderPage.getByTestId("not-found")).toBeVisible();
    const html = await outsiderPage.content();
    expect(html).not.toContain("tenant-b-payroll");
    expect(html).not.toContain("Tenant B");
    expect(html).not.toContain(bSecret);
  }
  // Not even the server functions answer with its data.
  const listed = await serverFn(outsiderPage.request, "list_applications", { tenant_id: tenantB, filter: "" });
  expect(listed.status).toBe(404);
  expect(listed.text).not.toContain("tenant-b-payroll");
  const opened = await serverFn(outsiderPage.request, "tenant", { tenant_id: tenantB });
  expect(opened.status).toBe(404);
  // The tenant list is for operators only.
  const tenantsPage = await open(outsiderPage, "/tenants");
  expect(tenantsPage!.status()).toBe(404);
  await expect(outsiderPage.getByTestId("not-found")).toBeVisible();
  expect((await serverFn(outsiderPage.request, "list_tenants", {})).status).toBe(403);
  expect(outsiderErrors).toEqual([]);
  await outsiderContext.close();
});

test("the audit log lists a tenant's acts newest first, a page at a time", async ({ page }) => {
  const { email, password } = state();
  await signInToTenant(page, email, password);
  const created = await serverFn(page.request, "create_tenant", { name: "Audited" });
  expect(created.status).toBe(200);
  const tenantId: string = created.body.tenant_id;
  // 30 acts after the tenant's creation: more than one page of 25.
  for (let i = 1; i <= 30; i++) {
    const name = `audited-${String(i).padStart(2, "0")}`;
    expect((await serverFn(page.request, "create_application", { tenant_id: tenantId, name })).status).toBe(200);
  }

  await open(page, `/t/${tenantId}/audit`);
  const rows = page.getByTestId("audit-row");
  await expect(rows).toHaveCount(25);
  await expect(rows.first()).toHaveAttribute("data-action", "application.create");
  await expect(rows.first()).toContainText("audited-30");
  await expect(rows.first()).toContainText(email);
  const firstPageIds = (await rows.evaluateAll((els) => els.map((el) => Number(el.getAttribute("data-id")))));
  expect([...firstPageIds].sort((a, b) => b - a)).toEqual(firstPageIds);

  await page.getByTestId("audit-older").click();
  await expect(page).toHaveURL(new RegExp(`/t/${tenantId}/audit\\?before=\\d+$`));
  await expect(rows).toHaveCount(6);
  await expect(rows.last()).toHaveAttribute("data-action", "tenant.create");
  await expect(rows.first()).toContainText("audited-05");
  const secondPageIds = (await rows.evaluateAll((els) => els.map((el) => Number(el.getAttribute("data-id")))));
  expect(Math.max(...secondPageIds)).toBeLessThan(Math.min(...firstPageIds));
  await expect(page.getByTestId("audit-older")).toHaveCount(0);

  await page.getByTestId("audit-newest").click();
  await expect(rows).toHaveCount(25);
  await expect(rows.first()).toContainText("audited-30");
});
