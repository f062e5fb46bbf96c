// The benchmark's peer: node `oidc-provider` configured for the client
// credentials grant only, with one confidential client (client_secret_basic)
// and JWT access tokens signed with the algorithm named by PEER_ALG.
//
// Environment:
//   PEER_PORT           port to listen on, on 127.0.0.1 (required)
//   PEER_ALG            RS256 | ES256 | EdDSA (default RS256)
//   PEER_CLIENT_ID      the client's ID (default bench-client)
//   PEER_CLIENT_SECRET  the client's secret (default: random, printed at start)
//
// On start it prints one JSON line to stdout:
//   {"ready":true,"issuer":...,"tokenEndpoint":...,"clientId":...,"clientSecret":...,"alg":...}
import { randomBytes, randomUUID } from 'node:crypto';

import { exportJWK, generateKeyPair } from 'jose';
import Provider from 'oidc-provider';

const ALGS = new Set(['RS256', 'ES256', 'EdDSA']);

const port = Number.parseInt(process.env.PEER_PORT ?? '', 10);
if (!Number.isInteger(port) || port <= 0 || port > 65535) {
  console.error('server.mjs: PEER_PORT must be a port number');
  process.exit(2);
}
const alg = process.env.PEER_ALG ?? 'RS256';
if (!ALGS.has(alg)) {
  console.error(`server.mjs: PEER_ALG must be one of ${[...ALGS].join(', ')}`);
  process.exit(2);
}
const clientId = process.env.PEER_CLIENT_ID ?? 'bench-client';
const clientSecret = process.env.PEER_CLIENT_SECRET ?? randomBytes(32).toString('base64url');

// The signing key, generated once at start. RS256 uses a 2048-bit modulus,
// EdDSA uses Ed25519.
const keyOptions = alg === 'RS256' ? { extractable: true, modulusLength: 2048 } : { extractable: true };
const { privateKey } = await generateKeyPair(alg, keyOptions);
const jwk = { ...(await exportJWK(privateKey)), alg, use: 'sig', kid: randomUUID() };

const RESOURCE = 'urn:bench:api';
const issuer = `http://127.0.0.1:${port}`;

const provider = new Provider(issuer, {
  clients: [
    {
      client_id: clientId,
      client_secret: clientSecret,
      grant_types: ['client_credentials'],
      response_types: [],
      redirect_uris: [],
      token_endpoint_auth_method: 'client_secret_basic',
      id_token_signed_response_alg: alg,
    },
  ],
  clientDefaults: {
    grant_types: ['client_credentials'],
    response_types: [],
    id_token_signed_response_alg: alg,
    token_endpoint_auth_method: 'client_secret_basic',
  },
  jwks: { keys: [jwk] },
  // Not used by the client credentials grant, set so that nothing falls back
  // to development defaults.
  cookies: { keys: [randomBytes(32).toString('base64url')] },
  scopes: ['api'],
  ttl: { ClientCredentials: 3600 },
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    introspection: { enabled: false },
    revocation: { enabled: false },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => RESOURCE,
      useGrantedResource: () => true,
      getResourceServerInfo: () => ({
        scope: 'api',
        audience: RESOURCE,
        accessTokenTTL: 3600,
        accessTokenFormat: 'jwt',
        jwt: { sign: { alg } },
      }),
    },
  },
});
provider.proxy = false;

// Errors answered to clients (4xx) are not logged per request; a server error
// is worth a line on stderr.
provider.on('server_error', (_ctx, err) => {
  console.error('server_error', err);
});

const server = provider.listen(port, '127.0.0.1', () => {
  process.stdout.write(
    `${JSON.stringify({
      ready: true,
      issuer,
      tokenEndpoint: `${issuer}/token`,
      clientId,
      clientSecret,
      alg,
    })}\n`,
  );
});
server.keepAliveTimeout = 65_000;

const stop = () => {
  server.close(() => process.exit(0));
  setTimeout(() => process.exit(0), 2_000).unref();
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
