"""An independent verifier of Strongroom's tokens, as a cloud would check them: PyJWT fetches the
discovery document and the JWKS it names over HTTP from the running server, then checks the
signature (RS256, by `kid`), the issuer, the audience and the times.

Usage: verify.py <issuer> <audience> <token> [--ignore-expiry]
Prints one JSON line: {"ok": true, "claims": {...}} or {"ok": false, "error": "<PyJWT class>: ..."}.
"""
import json
import sys
import urllib.request

import jwt


def main() -> None:
    issuer, audience, token = sys.argv[1:4]
    ignore_expiry = "--ignore-expiry" in sys.argv[4:]
    try:
        with urllib.request.urlopen(issuer + "/.well-known/openid-configuration", timeout=10) as answer:
            discovery = json.load(answer)
        if discovery["issuer"] != issuer:
            raise ValueError("the discovery issuer %r is not %r" % (discovery["issuer"], issuer))
        signing_key = jwt.PyJWKClient(discovery["jwks_uri"], cache_keys=False).get_signing_key_from_jwt(token)
        claims = jwt.decode(
            token,
            signing_key.key,
            algorithms=discovery["id_token_signing_alg_values_supported"],
            audience=audience,
            issuer=issuer,
            options={
                "require": ["iss", "sub", "aud", "exp", "iat", "nbf", "jti"],
                "verify_exp": not ignore_expiry,
            },
        )
        print(json.dumps({"ok": True, "claims": claims}))
    except Exception as error:  # every failure is the answer, named by its class
        print(json.dumps({"ok": False, "error": "%s: %s" % (type(error).__name__, error)}))


main()
