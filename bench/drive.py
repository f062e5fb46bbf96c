#!/usr/bin/env python3
"""Sends exactly COUNT token requests over one keep-alive connection, one after
the other, for bench/profile.sh: a fixed number of requests, so that an
instruction count divided by it is a per-request figure.

    drive.py TOKEN_URL AUTHORIZATION COUNT

Every answer must be a 200 with a JSON body holding an access_token; the
first that is not stops the run with exit status 1.
"""

import http.client
import json
import sys
import urllib.parse


def main() -> int:
    if len(sys.argv) != 4:
        print(__doc__, file=sys.stderr)
        return 2
    url, authorization, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
    target = urllib.parse.urlsplit(url)
    connection = http.client.HTTPConnection(target.hostname, target.port, timeout=120)
    headers = {
        "Authorization": authorization,
        "Content-Type": "application/x-www-form-urlencoded",
        "Accept": "application/json",
    }
    for i in range(count):
        connection.request("POST", target.path, body="grant_type=client_credentials", headers=headers)
        response = connection.getresponse()
        body = response.read()
        if response.status != 200 or "access_token" not in json.loads(body):
            print(f"drive.py: request {i + 1}: HTTP {response.status}: {body[:200]!r}", file=sys.stderr)
            return 1
    connection.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
