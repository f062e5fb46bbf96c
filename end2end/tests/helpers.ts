// Shared helpers for the browser tests.
import { expect, Page } from "@playwright/test";
import { readFileSync } from "node:fs";
import { join } from "node:path";

export interface E2EState {
  email: string;
  password: string;
  dataDir: string;
  baseURL: string;
  binary: string;
}

export function state(): E2EState {
  return JSON.parse(readFileSync(join(__dirname, "..", ".e2e-state.json"), "utf8"));
}

/** Waits until the page is hydrated: clicks before that would be lost. */
export async function hydrated(page: Page) {
  await expect(page.locator("html[data-hydrated=true]")).toHaveCount(1);
}

export async function signIn(page: Page, email: string, password: string) {
  await page.goto("/login");
  await hydrated(page);
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
}
