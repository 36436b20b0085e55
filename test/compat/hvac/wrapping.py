"""Response wrapping through hvac: sys/wrapping/wrap|lookup|unwrap|rewrap and
the X-Vault-Wrap-TTL header (hvac's wrap_ttl= on client.read/write and token
create), as root on a -dev server. hvac 0.11 has client.sys.unwrap but no
sys.wrap/lookup/rewrap methods: those go through the generic client.write."""
from _harness import client, main, outcome


def wrap_lookup_unwrap(_args):
    c = client()
    outcome_wrap = outcome(c.write, "sys/wrapping/wrap", wrap_ttl="60s", secret="s3cr3t", n=1)
    if "error" in outcome_wrap:
        return {"wrap": outcome_wrap}
    wrapped = outcome_wrap["ok"]
    token = (wrapped.get("wrap_info") or {}).get("token") if isinstance(wrapped, dict) else None
    lookup = outcome(c.write, "sys/wrapping/lookup", token=token)
    # sys/wrapping/lookup needs no token in Vault.
    lookup_anon = outcome(client("").write, "sys/wrapping/lookup", token=token)
    unwrapped = outcome(c.sys.unwrap, token)
    again = outcome(c.sys.unwrap, token)
    return {"wrap": wrapped, "lookup": lookup, "lookup_anon": lookup_anon, "unwrap": unwrapped, "unwrap_again": again}


def wrap_requires_ttl(_args):
    return outcome(client().write, "sys/wrapping/wrap", secret="x")


def unwrap_as_token(_args):
    """Unwrap with the wrapping token itself as X-Vault-Token (no token in the body)."""
    c = client()
    wrapped = outcome(c.write, "sys/wrapping/wrap", wrap_ttl="60s", secret="mine")
    if "error" in wrapped:
        return {"wrap": wrapped}
    return outcome(client(wrapped["ok"]["wrap_info"]["token"]).sys.unwrap)


def rewrap(_args):
    c = client()
    wrapped = outcome(c.write, "sys/wrapping/wrap", wrap_ttl="5m", secret="rotated")
    if "error" in wrapped:
        return {"wrap": wrapped}
    first = wrapped["ok"]["wrap_info"]["token"]
    rewrapped = outcome(c.write, "sys/wrapping/rewrap", token=first)
    new = rewrapped.get("ok", {}).get("wrap_info", {}).get("token") if "ok" in rewrapped else None
    return {"rewrap": rewrapped, "old": outcome(c.sys.unwrap, first), "new": outcome(c.sys.unwrap, new) if new else None}


def wrap_ttl_read(_args):
    c = client()
    c.secrets.kv.v2.create_or_update_secret("wrapme", {"password": "hunter2"})
    wrapped = c.read("secret/data/wrapme", wrap_ttl="2m")
    token = (wrapped or {}).get("wrap_info", {}) and wrapped["wrap_info"].get("token")
    return {"read": wrapped, "unwrap": outcome(c.sys.unwrap, token) if token else None}


def wrap_ttl_token_create(_args):
    c = client()
    wrapped = c.auth.token.create(policies=["default"], ttl="1h", wrap_ttl="120s")
    token = (wrapped or {}).get("wrap_info", {}) and wrapped["wrap_info"].get("token")
    unwrapped = outcome(c.sys.unwrap, token) if token else None
    return {"create": wrapped, "unwrap": unwrapped}


def auth_cubbyhole(_args):
    """hvac's documented login with a wrapped token: auth_cubbyhole unwraps it and adopts the token inside."""
    c = client()
    wrapped = c.auth.token.create(policies=["default"], ttl="1h", wrap_ttl="120s")
    if not (wrapped.get("wrap_info") or {}).get("token"):
        return {"login": {"not_wrapped": wrapped}, "adopted": False, "lookup_self": None}
    token = wrapped["wrap_info"]["token"]
    fresh = client("")
    login = outcome(fresh.auth_cubbyhole, token)
    return {"login": login, "adopted": fresh.token != token and bool(fresh.token),
            "lookup_self": outcome(fresh.auth.token.lookup_self) if "ok" in login else None}


if __name__ == "__main__":
    main({f.__name__: f for f in [wrap_lookup_unwrap, wrap_requires_ttl, unwrap_as_token, rewrap, wrap_ttl_read,
                                   wrap_ttl_token_create, auth_cubbyhole]})
