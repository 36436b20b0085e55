"""Auth methods through hvac: client.sys's auth mount calls, client.auth.userpass
and client.auth.approle (plus the older client.auth_userpass / auth_approle),
as root on a -dev server; logins run from a client without a token."""
from _harness import client, main, outcome, plain


def sys_auth(_args):
    c = client()
    enabled = plain(c.sys.enable_auth_method("userpass", path="hv-people", description="people",
                                             config={"default_lease_ttl": "1h", "max_lease_ttl": "2h"}))
    listed = c.sys.list_auth_methods()
    tuning = c.sys.read_auth_method_tuning("hv-people")
    tuned = plain(c.sys.tune_auth_method("hv-people", max_lease_ttl="3h", description="tuned by hvac",
                                         listing_visibility="unauth", options={"login_rate_burst": "50"}))
    after = c.sys.read_auth_method_tuning("hv-people")
    duplicate = outcome(c.sys.enable_auth_method, "userpass", path="hv-people")
    disabled = plain(c.sys.disable_auth_method("hv-people"))
    return {"enable": enabled, "listed": listed, "tuning": tuning, "tune": tuned, "after": after,
            "duplicate": duplicate, "disable": disabled,
            "still_listed": "hv-people/" in c.sys.list_auth_methods()["data"]}


def userpass(_args):
    c = client()
    c.sys.enable_auth_method("userpass", path="hv-userpass")
    up = c.auth.userpass
    created = plain(up.create_or_update_user("alice", password="pw-alice", policies="hv-dev", mount_point="hv-userpass"))
    read = up.read_user("alice", mount_point="hv-userpass")
    up.create_or_update_user("bob", password="pw-bob", mount_point="hv-userpass", token_ttl="10m")
    listed = up.list_user(mount_point="hv-userpass")

    anon = client("")
    logged_in = anon.auth.userpass.login("alice", "pw-alice", mount_point="hv-userpass")
    self_lookup = anon.auth.token.lookup_self()
    wrong = outcome(client("").auth.userpass.login, "alice", "nope", mount_point="hv-userpass")
    unknown = outcome(client("").auth.userpass.login, "nobody", "nope", mount_point="hv-userpass")

    password = plain(up.update_password_on_user("alice", "pw-new", mount_point="hv-userpass"))
    old_password = outcome(client("").auth.userpass.login, "alice", "pw-alice", mount_point="hv-userpass")
    legacy_client = client("")
    legacy = legacy_client.auth_userpass("alice", "pw-new", mount_point="hv-userpass")
    legacy_authenticated = legacy_client.is_authenticated()

    deleted = plain(up.delete_user("bob", mount_point="hv-userpass"))
    bob_after = outcome(client("").auth.userpass.login, "bob", "pw-bob", mount_point="hv-userpass")
    c.sys.disable_auth_method("hv-userpass")
    token_after_disable = outcome(client(logged_in["auth"]["client_token"]).auth.token.lookup_self)
    return {"create": created, "read": read, "list": listed, "login": logged_in, "lookup_self": self_lookup,
            "wrong": wrong, "unknown": unknown, "password": password, "old_password": old_password,
            "legacy": legacy, "legacy_authenticated": legacy_authenticated, "delete": deleted,
            "bob_after": bob_after, "token_after_disable": token_after_disable}


def approle(_args):
    c = client()
    c.sys.enable_auth_method("approle", path="hv-approle")
    ar = c.auth.approle
    m = "hv-approle"
    created = plain(ar.create_or_update_approle("app", token_policies=["hv-dev"], token_ttl="10m",
                                                secret_id_num_uses=2, mount_point=m))
    read = ar.read_role("app", mount_point=m)
    roles = ar.list_roles(mount_point=m)
    role_id = ar.read_role_id("app", mount_point=m)["data"]["role_id"]
    set_id = plain(ar.update_role_id("app", "hv-chosen-role-id", mount_point=m))
    role_id_after = ar.read_role_id("app", mount_point=m)["data"]["role_id"]

    generated = ar.generate_secret_id("app", metadata={"host": "h1"}, cidr_list=["127.0.0.0/8"], mount_point=m)
    secret_id = generated["data"]["secret_id"]
    accessor = generated["data"]["secret_id_accessor"]
    looked_up = ar.read_secret_id("app", secret_id, mount_point=m)
    accessors = ar.list_secret_id_accessors("app", mount_point=m)
    by_accessor = ar.read_secret_id_accessor("app", accessor, mount_point=m)

    anon = client("")
    logged_in = anon.auth.approle.login("hv-chosen-role-id", secret_id=secret_id, mount_point=m)
    self_lookup = anon.auth.token.lookup_self()
    legacy_client = client("")
    legacy = legacy_client.auth_approle("hv-chosen-role-id", secret_id, mount_point=m)
    spent = outcome(client("").auth.approle.login, "hv-chosen-role-id", secret_id=secret_id, mount_point=m)
    wrong = outcome(client("").auth.approle.login, "hv-chosen-role-id", secret_id="not-a-secret-id", mount_point=m)

    custom = ar.create_custom_secret_id("app", "hv-custom-secret-id", mount_point=m)
    destroyed_by_accessor = plain(ar.destroy_secret_id_accessor("app", custom["data"]["secret_id_accessor"], mount_point=m))
    another = ar.generate_secret_id("app", mount_point=m)["data"]["secret_id"]
    destroyed = plain(ar.destroy_secret_id("app", another, mount_point=m))
    after_destroy = outcome(client("").auth.approle.login, "hv-chosen-role-id", secret_id=another, mount_point=m)
    deleted = plain(ar.delete_role("app", mount_point=m))
    read_deleted = outcome(ar.read_role, "app", mount_point=m)
    return {"create": created, "read": read, "roles": roles, "role_id": role_id, "set_id": set_id,
            "role_id_after": role_id_after, "generated": generated, "looked_up": looked_up, "accessors": accessors,
            "by_accessor": by_accessor, "login": logged_in, "lookup_self": self_lookup, "legacy": legacy,
            "spent": spent, "wrong": wrong, "custom": custom, "destroyed_by_accessor": destroyed_by_accessor,
            "destroyed": destroyed, "after_destroy": after_destroy, "delete": deleted, "read_deleted": read_deleted}


if __name__ == "__main__":
    main({f.__name__: f for f in [sys_auth, userpass, approle]})
