"""sys/policies/acl/*, the older sys/policy/*, sys/capabilities and
sys/capabilities-self through hvac, on a -dev server."""
from _harness import client, main, outcome, plain

RULES = 'path "secret/data/hv/*" {\n  capabilities = ["read", "list"]\n}\n'


def acl_crud(_args):
    # hvac 0.11 has no sys.*_acl_policy methods: the generic client methods on sys/policies/acl.
    c = client()
    written = plain(c.write("sys/policies/acl/hv-acl", policy=RULES))
    read = c.read("sys/policies/acl/hv-acl")
    listed = c.list("sys/policies/acl")
    c.delete("sys/policies/acl/hv-acl")
    return {"write": written, "read": read, "list": listed, "read_after_delete": c.read("sys/policies/acl/hv-acl"),
            "list_after_delete": c.list("sys/policies/acl")}


def old_policy(_args):
    c = client()
    written = plain(c.sys.create_or_update_policy("hv-old", RULES))
    read = c.sys.read_policy("hv-old")
    listed = c.sys.list_policies()
    text = c.get_policy("hv-old")
    deleted = plain(c.sys.delete_policy("hv-old"))
    return {"write": written, "read": read, "list": listed, "get_policy": text, "delete": deleted,
            "read_after_delete": outcome(c.sys.read_policy, "hv-old")}


def json_policy(_args):
    # A dict policy: hvac sends it as a JSON document, which Vault parses like HCL.
    c = client()
    written = outcome(c.sys.create_or_update_policy, "hv-json", {"path": {"secret/data/json/*": {"capabilities": ["read"]}}})
    child = c.auth.token.create(policies=["hv-json"], ttl="10m")["auth"]["client_token"]
    caps = outcome(c.sys.get_capabilities, ["secret/data/json/x"], token=child)
    return {"write": written, "capabilities": caps}


def capabilities(args):
    c = client()
    child = client(args["child_token"])
    return {
        "token": c.sys.get_capabilities(["secret/data/cap/x", "sys/mounts"], token=args["child_token"]),
        "token_one": c.sys.get_capabilities(["secret/data/cap/x"], token=args["child_token"]),
        "self": child.sys.get_capabilities(["secret/data/cap/x"]),
        "self_two": child.sys.get_capabilities(["secret/data/cap/x", "secret/data/other"]),
        "root_self": c.sys.get_capabilities(["anything/at/all"]),
    }


if __name__ == "__main__":
    main({f.__name__: f for f in [acl_crud, old_policy, json_policy, capabilities]})
