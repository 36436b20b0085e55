"""sys/audit, sys/audit/<path> and sys/audit-hash/<path> through hvac, on a -dev server."""
from _harness import client, main, outcome, plain


def audit_devices(args):
    c = client()
    enabled = plain(c.sys.enable_audit_device("file", description="hvac log", options={"file_path": args["file_path"]}, path="hvac-file"))
    listed = c.sys.list_enabled_audit_devices()
    hashed = c.sys.calculate_hash("hvac-file", "hvac-input")
    again = c.sys.calculate_hash("hvac-file", "hvac-input")
    c.secrets.kv.v2.create_or_update_secret(path="hvac-audit", secret={"password": "hvac-input"})
    bad = outcome(c.sys.enable_audit_device, "nope", path="hvac-bad")
    disabled = plain(c.sys.disable_audit_device("hvac-file"))
    return {"enable": enabled, "list": listed, "hash": hashed, "hash_again": again, "bad": bad, "disable": disabled,
            "list_after": c.sys.list_enabled_audit_devices()}


if __name__ == "__main__":
    main({f.__name__: f for f in [audit_devices]})
