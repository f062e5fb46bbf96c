// Tokens from Clavis verify with an independent JOSE implementation (the
// `jose` package), configured only from the discovery document.
import { expect, test } from "@playwright/test";
import { execFileSync } from "node:child_process";
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from "jose";
import { state } from "./helpers";

function cli(args: string[]): any {
  const { binary, dataDir } = state();
  const out = execFileSync(binary, args, {
    env: { ...process.env, CLAVIS_DATA_DIR: dataDir, CLAVIS_PUBLIC_URL: state().baseURL },
    encoding: "utf8",
  });
  return JSON.parse(out);
}

for (const alg of ["RS256", "ES256", "EdDSA"]) {
  test(`an ${alg} token verifies with jose using only discovery and the JWKS`, async ({ request }) => {
    const tenant = cli(["tenant", "create", "--name", `jose-${alg}`, "--signing-alg", alg]);
    const app = cli(["app", "create", "--tenant", tenant.tenantId, "--name", "jose-check"]);

    const discovery = await (await request.get(`${tenant.oAuthServerUrl}/.well-known/openid-configuration`)).json();
    expect(discovery.issuer).toBe(tenant.oAuthServerUrl);

    const basic = Buffer.from(`${encodeURIComponent(app.clientId)}:${encodeURIComponent(app.secret)}`).toString("base64");
    const reply = await request.post(discovery.token_endpoint, {
      headers: { authorization: `Basic ${basic}`, "content-type": "application/x-www-form-urlencoded" },
      data: "grant_type=client_credentials",
    });
    expect(reply.status()).toBe(200);
    const { access_token: token } = await reply.json();

    const jwks = createRemoteJWKSet(new URL(discovery.jwks_uri));
    const { payload, protectedHeader } = await jwtVerify(token, jwks, {
      issuer: discovery.issuer,
      audience: app.clientId,
      algorithms: [alg],
      typ: "at+jwt",
    });
    expect(protectedHeader.alg).toBe(alg);
    expect(payload.sub).toBe(app.clientId);
    expect(payload.scope).toContain("appid_default");

    // A tampered token is refused by the same verifier.
    const [h, p, sig] = token.split(".");
    const forged = Buffer.from(JSON.stringify({ ...payload, scope: "admin" })).toString("base64url");
    await expect(jwtVerify(`${h}.${forged}.${sig}`, jwks, { issuer: discovery.issuer })).rejects.toThrow();
    expect(decodeProtectedHeader(token).kid).toBeTruthy();
  });
}
