"""How hvac sees Vault's error responses: `{"errors": [...]}` with
`Content-Type: application/json` becomes exceptions whose .errors is the list."""
import requests

from _harness import addr, client, main, outcome


def error_parsing(_args):
    denied = outcome(client("hvs.not-a-real-token").sys.list_mounted_secrets_engines)
    bad_token = outcome(client().auth.token.lookup, "hvs.not-a-real-token")
    raw = requests.get(addr() + "/v1/sys/mounts", headers={"X-Vault-Token": "hvs.not-a-real-token"})
    ok = requests.get(addr() + "/v1/sys/health")
    return {"denied": denied, "bad_token": bad_token,
            "error_content_type": raw.headers.get("Content-Type"), "ok_content_type": ok.headers.get("Content-Type")}


if __name__ == "__main__":
    main({"error_parsing": error_parsing})
