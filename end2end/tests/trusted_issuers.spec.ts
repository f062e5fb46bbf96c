// The Trusted issuers page and federated credentials: an admin trusts an
// issuer (its keys pasted, as for a cluster without public discovery),
// gives an application a federated credential for one of its subjects
// (the audience defaulting to the tenant's OAuth server URL), removes it,
// and deletes the issuer; a viewer sees the list and no control, and the
// server refuses its writes.
import { generateKeyPairSync } from "node:crypto";
import { expect, test } from "./fixtures";
import { appRow, open, serverFn, signInToTenant, state, tokenStatus } from "./helpers";
import { viewerSession } from "./tokens";

function clusterJwks() {
  const { publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  return JSON.stringify({ keys: [{ ...(publicKey.export({ format: "jwk" }) as object), kid: "cluster-1", alg: "RS256", use: "sig" }] });
}

test("an admin trusts an issuer and gives an application a federated credential", async ({ page, request }) => {
  const { email, password, baseURL } = state();
  await signInToTenant(page, email, password);
  const tenant = await serverFn(page.request, "create_tenant", { name: `Federation ${Date.now() % 100000}` });
  expect(tenant.status).toBe(200);
  const tenantId: string = tenant.body.tenant_id;
  const app = await serverFn(page.request, "create_application", { tenant_id: tenantId, name: "payments-api" });
  expect(app.status).toBe(200);
  const { client_id: clientId, secret } = app.body;

  // The navigation leads to the page; it starts empty.
  await open(page, `/t/${tenantId}/applications`);
  await page.getByRole("navigation", { name: "Sections" }).getByRole("link", { name: "Trusted issuers" }).click();
  await expect(page).toHaveURL(`/t/${tenantId}/trusted-issuers`);
  await expect(page.getByRole("navigation", { name: "Sections" }).getByRole("link", { name: "Trusted issuers" })).toHaveAttribute(
    "aria-current",
    "page",
  );
  await expect(page.getByTestId("no-issuers")).toBeVisible();

  // Add one: a refused issuer URL first, then a pasted static JWKS.
  await page.getByTestId("add-trusted-issuer").click();
  const add = page.getByRole("dialog", { name: "Add trusted issuer" });
  await expect(add.getByLabel("Name")).toBeFocused();
  await add.getByLabel("Name").fill("production cluster");
  await add.getByLabel("Issuer URL").fill("kubernetes.default.svc");
  await add.getByTestId("confirm-add-issuer").click();
  await expect(add.getByRole("alert")).toContainText("Enter the issuer URL");
  const issuerUrl = "https://kubernetes.default.svc.cluster.local";
  await add.getByLabel("Issuer URL").fill(issuerUrl);
  await add.getByLabel("Pasted JWKS").check();
  await add.getByTestId("confirm-add-issuer").click();
  await expect(add.getByRole("alert")).toHaveText("Paste the issuer's JWKS.");
  await add.getByLabel("JWKS", { exact: true }).fill("{not json");
  await add.getByTestId("confirm-add-issuer").click();
  await expect(add.getByRole("alert")).toBeVisible();
  await expect(add).toBeVisible();
  await add.getByLabel("JWKS", { exact: true }).fill(clusterJwks());
  await add.getByTestId("confirm-add-issuer").click();
  await expect(add).toBeHidden();
  await expect(page.getByTestId("notice")).toContainText(`production cluster (${issuerUrl}) is now a trusted issuer.`);
  const issuerRow = page.getByTestId("issuer-row");
  await expect(issuerRow).toHaveCount(1);
  await expect(issuerRow.getByTestId("issuer-url")).toHaveText(issuerUrl);
  await expect(issuerRow.getByTestId("issuer-keys")).toHaveText("Static keys");
  const issuerId = (await issuerRow.getAttribute("data-id"))!;

  // The application's row: a federated credential for a service account.
  await open(page, `/t/${tenantId}/applications`);
  const row = appRow(page, "payments-api");
  await row.getByTestId("app-toggle").click();
  const details = row.getByTestId("app-details");
  await expect(details.getByTestId("credential-type")).toHaveText("Secret");
  await details.getByTestId("add-federated").click();
  const federate = page.getByRole("dialog", { name: "Use federated credentials for payments-api?" });
  await expect(federate.getByTestId("credential-warning")).toContainText("client secret stops working");
  await expect(federate.getByLabel("Issuer", { exact: true })).toHaveValue(issuerId);
  const oauthServerUrl = `${baseURL}/oauth/v4/${tenantId}`;
  await expect(federate.getByLabel("Audience (optional)")).toHaveAttribute("placeholder", oauthServerUrl);
  await federate.getByTestId("confirm-add-federated").click();
  await expect(federate.getByRole("alert")).toHaveText("Enter the subject (sub) the issuer's tokens carry.");
  const subject = "system:serviceaccount:payments:api";
  await federate.getByLabel("Subject").fill(subject);
  await federate.getByTestId("confirm-add-federated").click();
  await expect(federate).toBeHidden();
  await expect(page.getByTestId("notice")).toContainText(`Tokens from ${issuerUrl} with subject ${subject} now authenticate payments-api.`);
  await expect(details.getByTestId("credential-type")).toHaveText("Federated");
  const credential = details.getByTestId("federated-credential");
  await expect(credential).toHaveCount(1);
  await expect(credential.getByTestId("federated-issuer")).toHaveText(issuerUrl);
  await expect(credential.getByTestId("federated-subject")).toHaveText(subject);
  await expect(credential.getByTestId("federated-audience")).toHaveText(oauthServerUrl);
  // The secret is gone.
  await expect(details.getByTestId("secret-value")).toHaveCount(0);
  expect(await tokenStatus(request, tenantId, clientId, secret)).toBe(401);

  // A second one with its own audience; then remove the first.
  await details.getByTestId("add-federated").click();
  const second = page.getByRole("dialog", { name: "Add a federated credential to payments-api" });
  await expect(second.getByTestId("credential-warning")).toHaveCount(0);
  await second.getByLabel("Subject").fill("system:serviceaccount:payments:worker");
  await second.getByLabel("Audience (optional)").fill("https://payments.example");
  await second.getByTestId("confirm-add-federated").click();
  await expect(second).toBeHidden();
  await expect(credential).toHaveCount(2);
  const worker = credential.filter({ hasText: "payments:worker" });
  await expect(worker.getByTestId("federated-audience")).toHaveText("https://payments.example");
  await credential.filter({ hasText: "payments:api" }).getByTestId("remove-federated").click();
  const remove = page.getByRole("dialog", { name: "Remove this federated credential?" });
  await expect(remove).toContainText(subject);
  await remove.getByTestId("confirm-remove-federated").click();
  await expect(remove).toBeHidden();
  await expect(credential).toHaveCount(1);
  const listed = await serverFn(page.request, "list_federated_credentials", { tenant_id: tenantId, client_id: clientId });
  expect(listed.status).toBe(200);
  expect(listed.body.map((c: { subject: string }) => c.subject)).toEqual(["system:serviceaccount:payments:worker"]);

  // Deleting the issuer, after a confirmation, takes its credentials with it.
  await open(page, `/t/${tenantId}/trusted-issuers`);
  await issuerRow.getByRole("button", { name: "Delete production cluster" }).click();
  const del = page.getByRole("dialog", { name: "Delete production cluster?" });
  await expect(del).toContainText("federated credentials naming it stop working");
  await del.getByTestId("confirm-delete-issuer").click();
  await expect(del).toBeHidden();
  await expect(page.getByTestId("no-issuers")).toBeVisible();
  const after = await serverFn(page.request, "list_federated_credentials", { tenant_id: tenantId, client_id: clientId });
  expect(after.body).toEqual([]);
});

test("a viewer sees the trusted issuers and no control, and its writes are refused", async ({ page, browser }) => {
  const { email, password } = state();
  await signInToTenant(page, email, password);
  const tenant = await serverFn(page.request, "create_tenant", { name: `Federation viewer ${Date.now() % 100000}` });
  const tenantId: string = tenant.body.tenant_id;
  const created = await serverFn(page.request, "create_trusted_issuer", {
    tenant_id: tenantId,
    name: "github actions",
    issuer: "https://token.actions.githubusercontent.com",
    keys: "jwks",
    value: clusterJwks(),
  });
  expect(created.status).toBe(200);
  const app = await serverFn(page.request, "create_application", { tenant_id: tenantId, name: "deployer" });
  const clientId: string = app.body.client_id;
  const federated = await serverFn(page.request, "create_federated_credential", {
    tenant_id: tenantId,
    client_id: clientId,
    issuer_id: created.body.id,
    subject: "repo:acme/deployer:ref:refs/heads/main",
  });
  expect(federated.status).toBe(200);

  const viewer = await viewerSession(browser, tenantId, "issuers");
  await open(viewer.page, `/t/${tenantId}/trusted-issuers`);
  await expect(viewer.page.getByTestId("issuer-row")).toHaveCount(1);
  await expect(viewer.page.getByTestId("issuer-name")).toHaveText("github actions");
  await expect(viewer.page.getByTestId("add-trusted-issuer")).toHaveCount(0);
  await expect(viewer.page.getByTestId("delete-issuer")).toHaveCount(0);

  await open(viewer.page, `/t/${tenantId}/applications`);
  const row = appRow(viewer.page, "deployer");
  await row.getByTestId("app-toggle").click();
  const details = row.getByTestId("app-details");
  await expect(details.getByTestId("credential-type")).toHaveText("Federated");
  await expect(details.getByTestId("federated-subject")).toHaveText("repo:acme/deployer:ref:refs/heads/main");
  await expect(details.getByTestId("remove-federated")).toHaveCount(0);
  await expect(details.getByTestId("add-federated")).toHaveCount(0);

  await open(viewer.page, `/t/${tenantId}/security`);
  await expect(viewer.page.getByTestId("require-dpop-nonce")).toBeDisabled();

  const writes: [string, Record<string, string>][] = [
    ["create_trusted_issuer", { name: "x", issuer: "https://x.example", keys: "discovery" }],
    ["delete_trusted_issuer", { id: created.body.id }],
    ["set_dpop_nonce_required", { required: "true" }],
  ];
  for (const [name, args] of writes) {
    const refused = await serverFn(viewer.page.request, name, { tenant_id: tenantId, ...args });
    expect(refused.status, name).toBe(403);
  }
  const still = await serverFn(page.request, "list_trusted_issuers", { tenant_id: tenantId });
  expect(still.body.map((i: { name: string }) => i.name)).toEqual(["github actions"]);
  expect((await serverFn(page.request, "dpop_nonce_required", { tenant_id: tenantId })).body).toBe(false);
  expect(viewer.errors).toEqual([]);
  await viewer.context.close();
});

test("an admin requires DPoP nonces on the Security page", async ({ page }) => {
  const { email, password } = state();
  await signInToTenant(page, email, password);
  const tenant = await serverFn(page.request, "create_tenant", { name: `DPoP nonces ${Date.now() % 100000}` });
  const tenantId: string = tenant.body.tenant_id;
  await open(page, `/t/${tenantId}/security`);
  const box = page.getByTestId("require-dpop-nonce");
  await expect(box).not.toBeChecked();
  await box.check();
  await expect(page.getByTestId("dpop-notice")).toContainText("DPoP proofs now need a server nonce.");
  expect((await serverFn(page.request, "dpop_nonce_required", { tenant_id: tenantId })).body).toBe(true);
  await open(page, `/t/${tenantId}/security`);
  await expect(page.getByTestId("require-dpop-nonce")).toBeChecked();
  await page.getByTestId("require-dpop-nonce").uncheck();
  await expect(page.getByTestId("dpop-notice")).toContainText("no longer need a server nonce");
  expect((await serverFn(page.request, "dpop_nonce_required", { tenant_id: tenantId })).body).toBe(false);
});
