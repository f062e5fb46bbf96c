// Shared helpers for the browser tests.
import { APIRequestContext, expect, Page } from "@playwright/test";
import { execFileSync } from "node:child_process";
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

/** Signs in and waits for the landing tenant's Applications page; returns its tenant ID. */
export async function signInToTenant(page: Page, email: string, password: string): Promise<string> {
  await signIn(page, email, password);
  await expect(page).toHaveURL(/\/t\/[0-9a-f-]{36}\/applications$/);
  await hydrated(page);
  return tenantIdOf(page);
}

export function tenantIdOf(page: Page): string {
  const match = new URL(page.url()).pathname.match(/^\/t\/([0-9a-f-]{36})\//);
  if (!match) throw new Error(`not a tenant page: ${page.url()}`);
  return match[1];
}

/** Opens a URL and waits for hydration. */
export async function open(page: Page, path: string) {
  const response = await page.goto(path);
  await hydrated(page);
  return response;
}

/**
 * Calls a server function directly, as a script would, with the cookies of
 * `request` (use `page.request` for the page's session) and our Origin.
 */
export async function serverFn(request: APIRequestContext, name: string, form: Record<string, string>) {
  const response = await request.post(`/api/${name}`, { form, headers: { Origin: state().baseURL } });
  const text = await response.text();
  let body: any = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON (e.g. the Origin check's plain-text refusal)
  }
  return { status: response.status(), body, text };
}

/** Client credentials grant with HTTP Basic; returns the status. */
export async function tokenStatus(request: APIRequestContext, tenantId: string, clientId: string, secret: string) {
  const basic = Buffer.from(`${clientId}:${secret}`).toString("base64");
  const response = await request.post(`${state().baseURL}/oauth/v4/${tenantId}/token`, {
    headers: { Authorization: `Basic ${basic}` },
    form: { grant_type: "client_credentials" },
  });
  if (response.status() === 200) {
    const body = await response.json();
    expect(body.token_type).toBe("Bearer");
    expect(typeof body.access_token).toBe("string");
  }
  return response.status();
}

/** Runs the clavis CLI against the test server's data directory; returns its JSON output. */
export function cli(args: string[], env: Record<string, string> = {}): any {
  const { binary, dataDir, baseURL } = state();
  const fullEnv: Record<string, string | undefined> = { ...process.env, CLAVIS_DATA_DIR: dataDir, CLAVIS_PUBLIC_URL: baseURL, ...env };
  // The server was started without these (see global-setup); so is the CLI.
  delete fullEnv.CLAVIS_DATABASE_URL;
  delete fullEnv.CLAVIS_MASTER_KEY;
  const out = execFileSync(binary, args, { cwd: join(__dirname, "..", ".."), env: fullEnv, encoding: "utf8" });
  return JSON.parse(out);
}

/** `text` padded with "x" to exactly `chars` characters (code points, as Clavis counts). */
export function nameOfLength(text: string, chars: number): string {
  const have = Array.from(text).length;
  if (have > chars) throw new Error(`"${text}" is already longer than ${chars} characters`);
  return text + "x".repeat(chars - have);
}

/** The tbody of the application row named `name`. */
export function appRow(page: Page, name: string) {
  return page.getByTestId("app-row").filter({ has: page.getByTestId("app-name").getByText(name, { exact: true }) });
}
