"""Response wrapping through hvac while Tresor does not build it yet: hvac's
wrap_ttl= on token create and on client.read must be refused (400), never
answered in the clear, and no token may be created. (The full wrapping cases,
wrap/lookup/unwrap/rewrap and auth_cubbyhole, are in this file's history for
when wrapping lands.)"""
from _harness import client, main, outcome


def wrap_refused(_args):
    c = client()
    before = len(c.list("auth/token/accessors")["data"]["keys"])
    token_create = outcome(c.auth.token.create, policies=["default"], ttl="1h", wrap_ttl="120s")
    read = outcome(c.read, "sys/mounts", wrap_ttl="2m")
    after = len(c.list("auth/token/accessors")["data"]["keys"])
    return {"token_create": token_create, "read": read, "accessors_before": before, "accessors_after": after}


if __name__ == "__main__":
    main({f.__name__: f for f in [wrap_refused]})
