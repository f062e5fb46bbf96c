// Members by invitation: an admin invites, the link is shown once, the
// invitee opens it in their own browser, chooses their own password and
// sees the tenant; a link works once and can be revoked; a person changes
// their own password on /account and their other sessions end.
import { expect, test, watchErrors } from "./fixtures";
import { cli, hydrated, open, signIn, signInToTenant, state } from "./helpers";

const stamp = () => `${Date.now() % 100000000}`;

async function invite(page: import("@playwright/test").Page, tenantId: string, email: string, role: string) {
  await open(page, `/t/${tenantId}/members`);
  await page.getByLabel("Email", { exact: true }).fill(email);
  await page.locator("#member-role").selectOption(role);
  await page.getByTestId("invite-member").click();
  const link = page.getByTestId("invite-link");
  await expect(link).toBeVisible();
  return (await link.textContent())!.trim();
}

test("an admin invites; the invitee sets their own password and sees the tenant", async ({ page, browser }) => {
  const { email, password, baseURL } = state();
  const tenantId = await signInToTenant(page, email, password);
  const invitee = `invitee-${stamp()}@example.com`;
  const link = await invite(page, tenantId, invitee, "viewer");
  expect(link.startsWith(`${baseURL}/invite/`)).toBe(true);
  await expect(page.locator(`[data-testid=invitation-row][data-email="${invitee}"]`)).toBeVisible();

  // Shown once: after a reload only the pending row is left.
  await open(page, `/t/${tenantId}/members`);
  await expect(page.getByTestId("invite-link")).toHaveCount(0);
  await expect(page.locator(`[data-testid=invitation-row][data-email="${invitee}"]`)).toBeVisible();

  const context = await browser.newContext({ baseURL });
  const theirs = await context.newPage();
  const errors = watchErrors(theirs);
  await open(theirs, new URL(link).pathname);
  await expect(theirs.getByRole("heading", { name: "Join Default" })).toBeVisible();
  // The policy is the server's: a common password is refused with its message.
  await theirs.getByLabel("Password", { exact: true }).fill("qwerty123456");
  await theirs.getByLabel("The password again").fill("qwerty123456");
  await theirs.getByTestId("accept-invite").click();
  await expect(theirs.getByTestId("error")).toContainText("most common");
  const chosen = "an invitee's own long passphrase";
  await theirs.getByLabel("Password", { exact: true }).fill(chosen);
  await theirs.getByLabel("The password again").fill(chosen);
  await theirs.getByTestId("accept-invite").click();
  await expect(theirs.getByTestId("invite-accepted")).toBeVisible();
  expect(await signInToTenant(theirs, invitee, chosen)).toBe(tenantId);
  await expect(theirs.getByTestId("user-role")).toHaveText("viewer");

  // The link is spent.
  await open(theirs, new URL(link).pathname);
  await expect(theirs.getByRole("heading", { name: "This invitation cannot be used" })).toBeVisible();
  await expect(theirs.getByTestId("error")).toContainText("already been used");
  expect(errors).toEqual([]);
  await context.close();

  await open(page, `/t/${tenantId}/members`);
  await expect(page.locator(`[data-testid=member-row][data-email="${invitee}"]`)).toBeVisible();
  await expect(page.locator(`[data-testid=invitation-row][data-email="${invitee}"]`)).toHaveCount(0);
});

test("a revoked invitation's link stops working", async ({ page }) => {
  const { email, password } = state();
  const tenantId = await signInToTenant(page, email, password);
  const invitee = `revoked-${stamp()}@example.com`;
  const link = await invite(page, tenantId, invitee, "admin");
  const row = page.locator(`[data-testid=invitation-row][data-email="${invitee}"]`);
  await row.getByTestId("revoke-invitation").click();
  await expect(row).toHaveCount(0);
  await open(page, new URL(link).pathname);
  await expect(page.getByRole("heading", { name: "This invitation cannot be used" })).toBeVisible();
});

test("a person changes their password on /account and their other sessions end", async ({ page, browser }) => {
  const { email, password, baseURL } = state();
  const tenantId = await signInToTenant(page, email, password);
  const person = `changer-${stamp()}@example.com`;
  const first = "the first long passphrase";
  cli(["member", "add", "--tenant", tenantId, "--email", person, "--role", "viewer"], { CLAVIS_MEMBER_PASSWORD: first });

  const context = await browser.newContext({ baseURL });
  const elsewhere = await context.newPage();
  expect(await signInToTenant(elsewhere, person, first)).toBe(tenantId);

  await signInToTenant(page, person, first);
  await page.getByTestId("user-email").click();
  await expect(page).toHaveURL(/\/account$/);
  await hydrated(page);
  await expect(page.getByRole("heading", { name: "Your account" })).toBeVisible();
  await page.getByTestId("password-section").getByLabel("Current password").fill("not the password");
  await page.getByLabel("New password", { exact: true }).fill("the second long passphrase");
  await page.getByLabel("New password again").fill("the second long passphrase");
  await page.getByTestId("change-password").click();
  const section = page.getByTestId("password-section");
  await expect(section.getByTestId("error")).toHaveText("The current password is incorrect.");
  await page.getByTestId("password-section").getByLabel("Current password").fill(first);
  await page.getByTestId("change-password").click();
  await expect(section.getByTestId("notice")).toContainText("Password changed");

  // This session stays; the other one is over.
  await open(page, `/t/${tenantId}/applications`);
  await expect(page).toHaveURL(new RegExp(`/t/${tenantId}/applications$`));
  await expect(page.getByTestId("user-email")).toHaveText(person);
  await elsewhere.goto(`/t/${tenantId}/applications`);
  await expect(elsewhere).toHaveURL(/\/login$/);
  await signIn(elsewhere, person, "the second long passphrase");
  await expect(elsewhere).toHaveURL(/\/t\/[0-9a-f-]{36}\/applications$/);
  await context.close();
});
