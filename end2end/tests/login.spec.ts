import { expect, test } from "@playwright/test";
import { hydrated, signIn, state } from "./helpers";

test("a wrong password is refused with one generic message", async ({ page }) => {
  const { email } = state();
  await signIn(page, email, "not-the-password");
  await expect(page.getByTestId("login-error")).toHaveText("Incorrect email or password.");
  await expect(page).toHaveURL(/\/login$/);
});

test("the bootstrap admin signs in without a page reload and signs out", async ({ page }) => {
  const { email, password } = state();
  await page.goto("/login");
  await hydrated(page);
  // A full page load would replace this marker; a hydrated form keeps it.
  await page.evaluate(() => ((window as any).__sameDocument = true));
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page).toHaveURL(/\/t\/[0-9a-f-]{36}\/applications$/);
  await expect(page.getByRole("heading", { name: "Applications", exact: true })).toBeVisible();
  await expect(page.getByTestId("user-email")).toHaveText(email);
  expect(await page.evaluate(() => (window as any).__sameDocument)).toBe(true);

  await page.getByTestId("logout").click();
  await expect(page).toHaveURL(/\/login$/);
  // The session is gone: the tenant page sends us back to sign in.
  await page.goto("/");
  await expect(page).toHaveURL(/\/login$/);
});
