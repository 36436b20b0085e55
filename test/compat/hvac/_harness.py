"""Shared plumbing for the hvac compatibility scripts.

Each script defines cases (functions taking the JSON arguments the node test
passes) and calls main(CASES). `python3 <script>.py <case>` runs one case and
prints its result as JSON on stdout; an unexpected exception prints the
traceback on stderr and exits non-zero. Calls that are expected to fail go
through outcome(), which records Vault's answer instead of raising.

Environment: VAULT_ADDR (the server), COMPAT_TOKEN (the token, may be empty),
COMPAT_ARGS (JSON object of case arguments).
"""
import base64
import json
import os
import sys
import traceback

import hvac
import requests
from hvac import exceptions

# hvac maps each status code to one exception class; map them back.
STATUS_OF = {
    exceptions.InvalidRequest: 400,
    exceptions.Unauthorized: 401,
    exceptions.Forbidden: 403,
    exceptions.InvalidPath: 404,
    exceptions.RateLimitExceeded: 429,
    exceptions.InternalServerError: 500,
    exceptions.VaultNotInitialized: 501,
    exceptions.BadGateway: 502,
    exceptions.VaultDown: 503,
}


def addr():
    return os.environ["VAULT_ADDR"]


def client(token=None):
    """An hvac client with its defaults; token None means COMPAT_TOKEN, '' means no token."""
    if token is None:
        token = os.environ.get("COMPAT_TOKEN", "")
    # token='' (not None) keeps hvac from reading VAULT_TOKEN or ~/.vault-token.
    return hvac.Client(url=addr(), token=token)


def plain(result):
    """A JSON-friendly view of what an hvac call returned (dict for 200, Response otherwise)."""
    if isinstance(result, requests.Response):
        body = None
        if result.text:
            try:
                body = result.json()
            except ValueError:
                body = result.text
        return {"status": result.status_code, "content_type": result.headers.get("Content-Type"), "body": body}
    return result


def _parsed(text):
    if not isinstance(text, str):
        return None
    try:
        return json.loads(text)
    except ValueError:
        return None


def outcome(fn, *args, **kwargs):
    """{'ok': result} when the call succeeds; {'error': {...}} when hvac raised a VaultError.

    error.errors is Vault's `errors` list as sent on the wire (taken from the
    body when hvac itself did not parse it); error.hvac_errors is what hvac
    made of it (None when it did not recognise the response as JSON).
    """
    try:
        return {"ok": plain(fn(*args, **kwargs))}
    except exceptions.VaultError as e:
        body = _parsed(e.args[0] if e.args else None)
        errors = e.errors
        if errors is None and isinstance(body, dict):
            errors = body.get("errors")
        return {
            "error": {
                "type": type(e).__name__,
                "status": STATUS_OF.get(type(e)),
                "errors": errors,
                "hvac_errors": e.errors,
                "body": body,
            }
        }


def b64(text):
    return base64.b64encode(text.encode()).decode()


def unb64(text):
    return base64.b64decode(text).decode()


def decode_root_token(encoded, otp):
    """Vault's generate-root decoding: base64 (padding optional) XOR the OTP."""
    raw = base64.b64decode(encoded + "=" * (-len(encoded) % 4))
    return bytes(a ^ b for a, b in zip(raw, otp.encode())).decode()


def main(cases):
    if len(sys.argv) != 2 or sys.argv[1] not in cases:
        sys.stderr.write("usage: %s CASE (one of: %s)\n" % (sys.argv[0], ", ".join(sorted(cases))))
        sys.exit(2)
    args = json.loads(os.environ.get("COMPAT_ARGS") or "{}")
    try:
        result = cases[sys.argv[1]](args)
    except Exception:
        traceback.print_exc()
        sys.exit(1)
    json.dump(result, sys.stdout)
    sys.stdout.write("\n")
