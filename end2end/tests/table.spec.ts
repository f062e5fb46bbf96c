// The applications table at scale: incremental loading, the filter, and the
// screenshots of the tab (collapsed and expanded) used by the README.
import { expect, test } from "./fixtures";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { appRow, cli, open, serverFn, signInToTenant, state, tokenStatus } from "./helpers";

// Tests never write tracked files: the screenshots land in a temporary
// directory unless `make screenshots` names docs/screenshots.
const screenshots = process.env.CLAVIS_SCREENSHOT_DIR ?? mkdtempSync(join(tmpdir(), "clavis-screenshots-"));

test("the table loads 50 rows at a time and filters on the server", async ({ page }) => {
  const { email, password } = state();
  await signInToTenant(page, email, password);
  const tenant = await serverFn(page.request, "create_tenant", { name: "Fleet" });
  const tenantId: string = tenant.body.tenant_id;
  const clientIds: string[] = [];
  for (let i = 1; i <= 120; i++) {
    const name = `fleet-${String(i).padStart(3, "0")}`;
    const created = await serverFn(page.request, "create_application", { tenant_id: tenantId, name });
    expect(created.status).toBe(200);
    clientIds.push(created.body.client_id);
  }

  await open(page, `/t/${tenantId}/applications`);
  const rows = page.getByTestId("app-row");
  await expect(rows).toHaveCount(50);
  await expect(page.getByTestId("app-count")).toHaveText("Showing 50 of 120 applications");
  await page.getByTestId("load-more").click();
  await expect(rows).toHaveCount(100);
  await page.getByTestId("load-more").click();
  await expect(rows).toHaveCount(120);
  await expect(page.getByTestId("load-more")).toHaveCount(0);
  // Every application exactly once.
  const shown = await rows.evaluateAll((els) => els.map((el) => el.getAttribute("data-client-id")));
  expect(new Set(shown).size).toBe(120);
  expect([...shown].sort()).toEqual([...clientIds].sort());

  await page.getByTestId("app-filter").fill("FLEET-07");
  await expect(rows).toHaveCount(10);
  await expect(page.getByTestId("app-count")).toHaveText("Showing 10 of 10 applications");
  await page.getByTestId("app-filter").fill(clientIds[41].slice(0, 13));
  await expect(rows).toHaveCount(1);
  await expect(appRow(page, "fleet-042")).toHaveCount(1);
  await page.getByTestId("app-filter").fill("no-such-application");
  await expect(page.getByTestId("no-match")).toHaveText("No applications match “no-such-application”.");
  await page.getByTestId("app-filter").fill("");
  await expect(rows).toHaveCount(50);
});

test("screenshots of the Applications tab, collapsed and expanded", async ({ page, request }) => {
  const { email, password } = state();
  const tenant = cli(["tenant", "create", "--name", "Acme Production"]);
  const tenantId: string = tenant.tenantId;
  const apps: Record<string, { clientId: string; secret: string }> = {};
  for (const name of [
    "search-indexer",
    "shipping-webhooks",
    "reporting-api",
    "notifications-worker",
    "inventory-sync",
    "payments-gateway",
    "billing-service",
  ]) {
    const app = cli(["app", "create", "--tenant", tenantId, "--name", name]);
    apps[name] = { clientId: app.clientId, secret: app.secret };
  }
  // Some traffic, so "last used" has something to say.
  for (const name of ["billing-service", "payments-gateway", "inventory-sync"]) {
    expect(await tokenStatus(request, tenantId, apps[name].clientId, apps[name].secret)).toBe(200);
  }
  // A rotation in its grace period, to show the previous secret.
  cli(["app", "rotate-secret", "--tenant", tenantId, "--client-id", apps["payments-gateway"].clientId, "--grace-seconds", "86400"]);

  await page.setViewportSize({ width: 1280, height: 800 });
  await signInToTenant(page, email, password);
  // Usage counters reach the database every 5 seconds.
  await expect
    .poll(async () => {
      const app = await serverFn(page.request, "get_application", { tenant_id: tenantId, client_id: apps["billing-service"].clientId });
      return app.body.last_used_unix;
    }, { timeout: 15_000 })
    .not.toBeNull();

  await open(page, `/t/${tenantId}/applications`);
  await expect(page.getByTestId("app-row")).toHaveCount(7);
  await expect(appRow(page, "billing-service").locator("td").nth(3)).toHaveText("just now");
  await page.screenshot({ path: join(screenshots, "applications.png") });

  const row = appRow(page, "payments-gateway");
  await row.getByTestId("app-toggle").click();
  await expect(row.getByTestId("previous-secret")).toBeVisible();
  await page.screenshot({ path: join(screenshots, "application-expanded.png"), fullPage: true });
});
