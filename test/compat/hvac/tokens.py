"""auth/token/* through hvac's client.auth.token (and the older client-level
token helpers), as root on a -dev server."""
from _harness import client, main, outcome, plain


def create(_args):
    c = client()
    return c.auth.token.create(policies=["default"], ttl="1h", meta={"app": "hvac"})


def create_orphan(_args):
    c = client()
    # hvac 0.11's only way to reach auth/token/create-orphan: the (deprecated) client.create_token(orphan=True).
    legacy = outcome(c.create_token, orphan=True, policies=["default"], ttl="1h")
    # no_parent through the current API (root may set it).
    no_parent = c.auth.token.create(policies=["default"], ttl="1h", no_parent=True)
    return {"create_orphan": legacy, "no_parent": no_parent}


def lookups(_args):
    c = client()
    created = c.auth.token.create(policies=["default"], ttl="1h", meta={"app": "hvac"})["auth"]
    token, accessor = created["client_token"], created["accessor"]
    child = client(token)
    return {
        "created": created,
        "lookup": c.auth.token.lookup(token),
        "lookup_self": child.auth.token.lookup_self(),
        "lookup_accessor": c.auth.token.lookup_accessor(accessor),
        "legacy_lookup_token": c.lookup_token(token),
        "accessors": c.auth.token.list_accessors(),
        "lookup_bad": outcome(c.auth.token.lookup, "hvs.not-a-token"),
    }


def renewals(_args):
    c = client()
    token = c.auth.token.create(policies=["default"], ttl="1h")["auth"]["client_token"]
    renewed = c.auth.token.renew(token, increment="2h")
    child = client(token)
    self_renewed = child.auth.token.renew_self(increment="30m")
    return {"renew": renewed, "renew_self": self_renewed, "ttl_after": c.auth.token.lookup(token)["data"]["ttl"]}


def revocations(_args):
    c = client()
    create = lambda: c.auth.token.create(policies=["default"], ttl="1h")["auth"]  # noqa: E731
    a, b, s = create(), create(), create()
    revoked = plain(c.auth.token.revoke(a["client_token"]))
    by_accessor = plain(c.auth.token.revoke_accessor(b["accessor"]))
    self_client = client(s["client_token"])
    revoked_self = plain(self_client.auth.token.revoke_self())
    return {
        "revoke": revoked,
        "lookup_revoked": outcome(c.auth.token.lookup, a["client_token"]),
        "revoke_accessor": by_accessor,
        "lookup_accessor_revoked": outcome(c.auth.token.lookup, b["client_token"]),
        "revoke_self": revoked_self,
        "lookup_self_revoked": outcome(self_client.auth.token.lookup_self),
    }


def revoke_orphan(_args):
    c = client()
    # Parents need auth/token/create (the node test writes policy hv-minter); the default policy lacks it.
    parent = c.auth.token.create(policies=["hv-minter"], ttl="1h")["auth"]
    child = client(parent["client_token"]).auth.token.create(policies=["default"], ttl="1h")["auth"]
    sibling = client(parent["client_token"]).auth.token.create(policies=["default"], ttl="1h")["auth"]
    orphaned = plain(c.auth.token.revoke_and_orphan_children(parent["client_token"]))
    tree_parent = c.auth.token.create(policies=["hv-minter"], ttl="1h")["auth"]
    tree_child = client(tree_parent["client_token"]).auth.token.create(policies=["default"], ttl="1h")["auth"]
    c.auth.token.revoke(tree_parent["client_token"])
    return {
        "revoke_orphan": orphaned,
        "parent": outcome(c.auth.token.lookup, parent["client_token"]),
        "child": outcome(c.auth.token.lookup, child["client_token"]),
        "sibling": outcome(c.auth.token.lookup, sibling["client_token"]),
        "tree_child": outcome(c.auth.token.lookup, tree_child["client_token"]),
    }


def roles(_args):
    """auth/token/roles/<name> through client.auth.token.*_role, and create(role_name=...) (hvac 0.11's role API)."""
    c = client()
    created = plain(c.auth.token.create_or_update_role("hv-role", allowed_policies=["hv-app"], orphan=True, path_suffix="rev1"))
    read = c.auth.token.read_role("hv-role")
    listed = c.auth.token.list_roles()
    # As a non-root parent (hv-minter), the role grants hv-app anyway and makes an orphan.
    parent = c.auth.token.create(policies=["hv-minter"], ttl="1h")["auth"]
    minter = client(parent["client_token"])
    made = minter.auth.token.create(role_name="hv-role", policies=["hv-app"], ttl="30m")
    lookup = c.auth.token.lookup(made["auth"]["client_token"])
    outside = outcome(minter.auth.token.create, role_name="hv-role", policies=["default", "hv-other"])
    unknown = outcome(minter.auth.token.create, role_name="hv-none")
    updated = plain(c.auth.token.create_or_update_role("hv-role", allowed_policies=["hv-app", "hv-other"], renewable=False))
    after_update = c.auth.token.read_role("hv-role")
    deleted = plain(c.auth.token.delete_role("hv-role"))
    gone = outcome(c.auth.token.read_role, "hv-role")
    return {
        "created": created, "read": read, "listed": listed, "made": made, "lookup": lookup, "outside": outside,
        "unknown": unknown, "updated": updated, "after_update": after_update, "deleted": deleted, "gone": gone,
    }


def batch(_args):
    """type="batch" through client.auth.token.create, and what a batch token cannot do."""
    c = client()
    # hv-batch grants auth/token/create (the node test writes it), so the refusal is the batch rule, not the ACL.
    made = c.auth.token.create(policies=["default", "hv-batch"], ttl="10m", type="batch")
    token = made["auth"]["client_token"]
    b = client(token)
    return {
        "made": made,
        "lookup_self": b.auth.token.lookup_self(),
        "revoke": outcome(c.auth.token.revoke, token),
        "renew_self": outcome(b.auth.token.renew_self),
        "child": outcome(b.auth.token.create, policies=["default"]),
        "num_uses": outcome(c.auth.token.create, policies=["default"], type="batch", num_uses=3),
    }


if __name__ == "__main__":
    main({f.__name__: f for f in [create, create_orphan, lookups, renewals, revocations, revoke_orphan, roles, batch]})
