"""Client credentials tokens through authlib's private_key_jwt (RFC 7523 §2.2).

Run by end2end/tests/key_clients.spec.ts: it plays an application written
in Python that keeps a private key in a file and never holds a secret. It
uses authlib's own OAuth2Session and PrivateKeyJWT, as their documentation
shows, and prints one JSON line: a list with, for each token request, the
token response, or {"error", "error_description"} when the server refused it.
Exit status 0 whenever every request got an answer; anything else (no
connection, a crash) is a non-zero exit with the reason on stderr.

authlib signs assertions valid for an hour by default; Clavis accepts at most
five minutes, so --lifetime sets a shorter one (omit it for authlib's default).
"""

import argparse
import json
import sys

from authlib.integrations.requests_client import OAuth2Session, OAuthError
from authlib.oauth2.rfc7523 import PrivateKeyJWT
from authlib.oauth2.rfc7523.assertion import private_key_jwt_sign
from joserfc.jwk import import_key

KEY_TYPES = {"RS256": "RSA", "PS256": "RSA", "ES256": "EC", "EdDSA": "OKP"}


class PrivateKeyJWTWithLifetime(PrivateKeyJWT):
    """authlib's PrivateKeyJWT with the assertion lifetime as a setting.

    Each request still gets a fresh assertion (a new jti, iat = now) from
    authlib's own signer; only its expires_in differs from the default.
    """

    def __init__(self, token_endpoint, alg, headers, lifetime):
        super().__init__(token_endpoint, headers=headers, alg=alg)
        self.lifetime = lifetime

    def sign(self, auth, token_endpoint):
        return private_key_jwt_sign(
            auth.client_secret,
            client_id=auth.client_id,
            token_endpoint=token_endpoint,
            header=dict(self.headers) if self.headers else None,
            alg=self.alg,
            expires_in=self.lifetime,
        )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--client-id", required=True)
    parser.add_argument("--key-file", required=True, help="PKCS#8 PEM private key")
    parser.add_argument("--token-url", required=True)
    parser.add_argument("--alg", default="RS256", choices=sorted(KEY_TYPES))
    parser.add_argument("--kid", help="sent in the assertion's header when given")
    parser.add_argument("--lifetime", type=int, help="assertion lifetime in seconds (authlib's default: 3600)")
    parser.add_argument("--requests", type=int, default=1, help="token requests to make, one after another")
    args = parser.parse_args()

    with open(args.key_file, "rb") as f:
        key = import_key(f.read(), KEY_TYPES[args.alg])
    headers = {"kid": args.kid} if args.kid else None
    if args.lifetime is None:
        auth = PrivateKeyJWT(args.token_url, headers=headers, alg=args.alg)
    else:
        auth = PrivateKeyJWTWithLifetime(args.token_url, args.alg, headers, args.lifetime)

    session = OAuth2Session(args.client_id, key, token_endpoint_auth_method="private_key_jwt", default_timeout=10)
    session.register_client_auth_method(auth)
    results = []
    for _ in range(args.requests):
        try:
            token = session.fetch_token(args.token_url, grant_type="client_credentials")
            results.append(dict(token))
        except OAuthError as refused:
            results.append({"error": refused.error, "error_description": refused.description})
    print(json.dumps(results))


if __name__ == "__main__":
    sys.exit(main())
