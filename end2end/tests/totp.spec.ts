// Two-factor sign-in: turn TOTP on from the account page, sign in with a
// code and with a recovery code, and a tenant that requires it of admins.
import { Page } from "@playwright/test";
import { randomUUID } from "node:crypto";
import { expect, test, watchErrors } from "./fixtures";
import { cli, open, serverFn, signIn, signInToTenant, state } from "./helpers";
import { totp } from "./totp";

// Wrong passwords and codes on purpose: counted against this spec's own
// address (the test server trusts 127.0.0.1 as a proxy), not 127.0.0.1's.
test.use({ extraHTTPHeaders: { "X-Forwarded-For": "198.51.100.23" } });

const PASSWORD = "saffron-meadow-compass-63";

const now = () => Math.floor(Date.now() / 1000);

test("the RFC 6238 test vector", () => {
  // Appendix B, SHA-1, T = 59 s: 94287082, whose last six digits are shown.
  expect(totp("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ", 59)).toBe("287082");
});

/** An admin of a new tenant, added with the CLI; returns their email and the tenant ID. */
function newAdmin(tenantName: string): { email: string; tenantId: string } {
  const tenant = cli(["tenant", "create", "--name", tenantName]);
  const email = `totp-${randomUUID().slice(0, 8)}@example.test`;
  cli(["member", "add", "--tenant", tenant.tenantId, "--email", email, "--role", "admin"], { CLAVIS_MEMBER_PASSWORD: PASSWORD });
  return { email, tenantId: tenant.tenantId };
}

/**
 * Turns TOTP on from the account page; returns the secret and the recovery
 * codes. With `tryWrong`, a wrong password and a wrong code are refused first.
 */
async function enableTotp(page: Page, tryWrong = false): Promise<{ secret: string; codes: string[] }> {
  await open(page, "/account");
  const section = page.getByTestId("totp-section");
  const password = section.getByTestId("totp-begin-password");
  await expect(password).toHaveAttribute("autocomplete", "current-password");
  if (tryWrong) {
    // A signed-in session alone (a stolen one, say) cannot turn it on.
    await password.fill("not-the-password");
    await section.getByTestId("totp-begin").click();
    await expect(section.getByTestId("error")).toContainText("The current password is incorrect.");
    await expect(section.getByTestId("totp-qr")).toHaveCount(0);
  }
  await password.fill(PASSWORD);
  await section.getByTestId("totp-begin").click();
  await expect(section.getByTestId("totp-qr")).toBeVisible();
  const secret = (await section.getByTestId("totp-secret").textContent())!.trim();
  if (tryWrong) {
    // Refused, nothing turned on. (Wrong codes count against this address,
    // as wrong passwords do, so the suite makes few.)
    const valid = [-30, 0, 30].map((drift) => totp(secret, now() + drift));
    await section.getByTestId("totp-confirm-code").fill(["000000", "111111", "222222", "333333"].find((c) => !valid.includes(c))!);
    await section.getByTestId("totp-confirm").click();
    await expect(section.getByTestId("error")).toContainText("That code is not right");
  }
  await section.getByTestId("totp-confirm-code").fill(totp(secret, now()));
  await section.getByTestId("totp-confirm").click();
  const items = section.getByTestId("recovery-code-item");
  await expect(items).toHaveCount(10);
  const codes = (await items.allTextContents()).map((code) => code.trim());
  for (const code of codes) expect(code).toMatch(/^[0-9a-z]{4}-[0-9a-z]{4}-[0-9a-z]{4}$/);
  await section.getByTestId("recovery-codes-done").click();
  await expect(section.getByTestId("totp-status")).toHaveText("On. 10 recovery codes left.");
  return { secret, codes };
}

async function signOut(page: Page) {
  await page.getByTestId("logout").click();
  await expect(page).toHaveURL(/\/login$/);
}

test("TOTP on, then sign in with a code and with a recovery code", async ({ page }) => {
  const { email, tenantId } = newAdmin("TOTP sign-in");
  await signInToTenant(page, email, PASSWORD);
  const { secret, codes } = await enableTotp(page, true);
  await signOut(page);

  // The password alone signs in to nothing: the code step follows.
  await signIn(page, email, PASSWORD);
  const form = page.getByTestId("second-factor-form");
  await expect(form).toBeVisible();
  const code = form.getByTestId("totp-code");
  await expect(code).toHaveAttribute("autocomplete", "one-time-code");
  await expect(code).toHaveAttribute("inputmode", "numeric");
  const me = await serverFn(page.request, "me", {});
  expect(me.body).toBeNull();
  // The enrolment used this step's code; the next step's is accepted too.
  await code.fill(totp(secret, now() + 30));
  await form.getByTestId("verify-code").click();
  await expect(page).toHaveURL(`/t/${tenantId}/applications`);
  await signOut(page);

  // A wrong code is refused with the form still there.
  await signIn(page, email, PASSWORD);
  const valid = [-30, 0, 30].map((drift) => totp(secret, now() + drift));
  await page.getByTestId("totp-code").fill(["000000", "111111", "222222", "333333"].find((c) => !valid.includes(c))!);
  await page.getByTestId("verify-code").click();
  await expect(page.getByTestId("login-error")).toHaveText("That code is not right.");

  // A recovery code signs in once.
  await page.getByTestId("toggle-recovery").click();
  await page.getByTestId("recovery-code").fill(codes[0]);
  await page.getByTestId("verify-code").click();
  await expect(page).toHaveURL(`/t/${tenantId}/applications`);
  await open(page, "/account");
  await expect(page.getByTestId("totp-status")).toHaveText("On. 9 recovery codes left.");
  await signOut(page);
  await signIn(page, email, PASSWORD);
  await page.getByTestId("toggle-recovery").click();
  await page.getByTestId("recovery-code").fill(codes[0]);
  await page.getByTestId("verify-code").click();
  await expect(page.getByTestId("login-error")).toHaveText("That code is not right.");
});

test("a tenant that requires two-factor sign-in of its admins", async ({ page, browser }) => {
  const { email, tenantId } = newAdmin("TOTP required");
  await signInToTenant(page, email, PASSWORD);
  await open(page, `/t/${tenantId}/security`);
  const toggle = page.getByTestId("require-2fa");
  await expect(toggle).not.toBeChecked();
  // Not without a second factor of one's own.
  await toggle.check();
  await expect(page.getByTestId("error")).toContainText("Turn on two-factor sign-in for your own account");
  await enableTotp(page);
  await open(page, `/t/${tenantId}/security`);
  await page.getByTestId("require-2fa").check();
  await expect(page.getByTestId("notice")).toContainText("Admins now need two-factor sign-in.");

  // Another admin, without a second factor, is sent to set one up.
  const other = `totp-${randomUUID().slice(0, 8)}@example.test`;
  cli(["member", "add", "--tenant", tenantId, "--email", other, "--role", "admin"], { CLAVIS_MEMBER_PASSWORD: PASSWORD });
  const viewer = `totp-${randomUUID().slice(0, 8)}@example.test`;
  cli(["member", "add", "--tenant", tenantId, "--email", viewer, "--role", "viewer"], { CLAVIS_MEMBER_PASSWORD: PASSWORD });
  const context = await browser.newContext({ baseURL: state().baseURL });
  const otherPage = await context.newPage();
  const errors = watchErrors(otherPage);
  await signIn(otherPage, other, PASSWORD);
  await expect(otherPage).toHaveURL(/\/account$/);
  await expect(otherPage.getByTestId("totp-setup-required")).toBeVisible();
  await open(otherPage, `/t/${tenantId}/applications`);
  await expect(otherPage.getByRole("heading", { name: "Set up two-factor to continue" })).toBeVisible();
  const refused = await serverFn(otherPage.request, "list_applications", { tenant_id: tenantId, filter: "" });
  expect(refused.status).toBe(403);
  expect(refused.body.kind).toBe("SecondFactorRequired");
  // Once enrolled, the tenant opens.
  await enableTotp(otherPage);
  await open(otherPage, `/t/${tenantId}/applications`);
  await expect(otherPage.getByRole("heading", { name: "Applications", exact: true })).toBeVisible();
  await context.close();

  // A viewer is not held to it.
  const viewerContext = await browser.newContext({ baseURL: state().baseURL });
  const viewerPage = await viewerContext.newPage();
  expect(await signInToTenant(viewerPage, viewer, PASSWORD)).toBe(tenantId);
  await expect(viewerPage.getByRole("heading", { name: "Applications", exact: true })).toBeVisible();
  await viewerContext.close();
  expect(errors).toEqual([]);
});
