// End users signed in by client libraries Clavis did not write: the App ID
// Node SDK's WebAppStrategy (the seeds' own SDK: it sends the password and
// refresh grants as multipart and checks both JWTs with its own code: RS256,
// `aud` an array holding the client ID, `iss` from discovery) and
// openid-client. The ID token is then verified with `jose` from the JWKS.
import { expect, test } from "@playwright/test";
import { execFileSync } from "node:child_process";
import { createRemoteJWKSet, jwtVerify } from "jose";
import * as oidc from "openid-client";
import { state } from "./helpers";

// The App ID SDK is CommonJS; its strategy is driven here without passport.
const WebAppStrategy = require("ibmcloud-appid").WebAppStrategy;

function cli(args: string[]): any {
  const { binary, dataDir } = state();
  const out = execFileSync(binary, args, {
    env: { ...process.env, CLAVIS_DATA_DIR: dataDir, CLAVIS_PUBLIC_URL: state().baseURL },
    encoding: "utf8",
  });
  return JSON.parse(out);
}

function basic(clientId: string, secret: string): string {
  return `Basic ${Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(secret)}`).toString("base64")}`;
}

const PASSWORD = "violet-harbour-lantern-42";

/** A tenant, a web application, and a Cloud Directory user made through the management API. */
async function setUp(request: import("@playwright/test").APIRequestContext, label: string) {
  const tenant = cli(["tenant", "create", "--name", `end-users-${label}`]);
  const web = cli(["app", "create", "--tenant", tenant.tenantId, "--name", "web"]);
  const admin = cli(["app", "create", "--tenant", tenant.tenantId, "--name", "provisioner", "--management", "write"]);
  const tokenReply = await request.post(`${tenant.oAuthServerUrl}/token`, {
    headers: { authorization: basic(admin.clientId, admin.secret) },
    form: { grant_type: "client_credentials", audience: admin.managementUrl },
  });
  expect(tokenReply.status()).toBe(200);
  const managementToken = (await tokenReply.json()).access_token;
  const email = `ada-${label}@example.com`;
  const signUp = await request.post(`${admin.managementUrl}/cloud_directory/sign_up?shouldCreateProfile=true&language=en`, {
    headers: { authorization: `Bearer ${managementToken}` },
    data: {
      active: true,
      emails: [{ value: email, primary: true }],
      userName: email,
      password: PASSWORD,
      name: { givenName: "Ada", familyName: "Lovelace" },
      status: "CONFIRMED",
    },
  });
  expect(signUp.status(), await signUp.text()).toBe(201);
  const user = await signUp.json();
  return { tenant, web, email, user };
}

/** Runs the strategy as passport would: it calls success, fail or error. */
function authenticate(strategy: any, req: any): Promise<{ outcome: string; value: any }> {
  return new Promise((resolve) => {
    const s = Object.create(strategy);
    s.success = (value: any) => resolve({ outcome: "success", value });
    s.fail = (value: any) => resolve({ outcome: "fail", value });
    s.error = (value: any) => resolve({ outcome: "error", value });
    s.redirect = (value: any) => resolve({ outcome: "redirect", value });
    s.authenticate(req, {});
  });
}

test("the App ID SDK's WebAppStrategy signs a user in, validates both tokens, and refreshes", async ({ request }) => {
  const { tenant, web, email, user } = await setUp(request, "webapp");
  const strategy = new WebAppStrategy({
    tenantId: tenant.tenantId,
    clientId: web.clientId,
    secret: web.secret,
    oauthServerUrl: tenant.oAuthServerUrl,
    redirectUri: `${state().baseURL}/callback`,
  });
  const req: any = { method: "POST", body: { username: email, password: PASSWORD }, session: {} };
  const signedIn = await authenticate(strategy, req);
  expect(signedIn.outcome, String(signedIn.value)).toBe("success");
  expect(signedIn.value.sub).toBe(user.id);
  expect(signedIn.value.email).toBe(email);
  const context = req.session[WebAppStrategy.AUTH_CONTEXT];
  expect(context.accessTokenPayload.amr).toEqual(["cloud_directory"]);
  expect(context.refreshToken).toBeTruthy();

  // Its own refresh path: multipart again, both tokens validated again.
  const renewedReq: any = { session: {} };
  await strategy.refreshTokens(renewedReq, context.refreshToken);
  const refreshed = renewedReq.session[WebAppStrategy.AUTH_CONTEXT];
  expect(refreshed.identityTokenPayload.sub).toBe(user.id);
  expect(refreshed.refreshToken).not.toBe(context.refreshToken);

  const wrong = await authenticate(strategy, { method: "POST", body: { username: email, password: "not-it" }, session: {} });
  expect(wrong.outcome).toBe("fail");
});

test("openid-client signs a user in from discovery alone, and jose verifies the ID token", async ({ request }) => {
  const { tenant, web, email, user } = await setUp(request, "oidc");
  const config = await oidc.discovery(new URL(tenant.oAuthServerUrl), web.clientId, web.secret, undefined, {
    execute: [oidc.allowInsecureRequests],
  });
  const tokens = await oidc.genericGrantRequest(config, "password", { username: email, password: PASSWORD, scope: "openid" });
  expect(tokens.token_type.toLowerCase()).toBe("bearer");
  const claims = tokens.claims();
  expect(claims?.sub).toBe(user.id);

  const metadata = config.serverMetadata();
  const jwks = createRemoteJWKSet(new URL(metadata.jwks_uri!));
  const { payload, protectedHeader } = await jwtVerify(tokens.id_token!, jwks, {
    issuer: metadata.issuer,
    audience: web.clientId,
    algorithms: ["RS256"],
  });
  expect(protectedHeader.ver).toBe(4);
  expect(Array.isArray(payload.aud)).toBe(true);
  expect(payload.email).toBe(email);
  expect(payload.name).toBe("Ada Lovelace");

  const info = await oidc.fetchUserInfo(config, tokens.access_token, user.id);
  expect(info.email).toBe(email);

  const renewed = await oidc.refreshTokenGrant(config, tokens.refresh_token!);
  expect(renewed.refresh_token).not.toBe(tokens.refresh_token);
  await expect(oidc.refreshTokenGrant(config, tokens.refresh_token!)).rejects.toThrow();

  // RFC 8414's path-inserted metadata names the same issuer.
  const oauth2 = await oidc.discovery(new URL(tenant.oAuthServerUrl), web.clientId, web.secret, undefined, {
    execute: [oidc.allowInsecureRequests],
    algorithm: "oauth2",
  });
  expect(oauth2.serverMetadata().issuer).toBe(metadata.issuer);
});
