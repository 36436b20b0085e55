"""KV v1 (client.secrets.kv.v1) and KV v2 (client.secrets.kv.v2), as root on a
-dev server: the node test mounts kv1/ (v1) and kvcfg/ (v2); secret/ is the
dev server's KV v2 mount."""
from _harness import client, main, outcome, plain


def v1_crud(_args):
    kv = client().secrets.kv.v1
    # No method given: hvac reads first, then POSTs (create) or PUTs (update).
    created = plain(kv.create_or_update_secret("app/db", {"user": "u1", "password": "p1"}, mount_point="kv1"))
    updated = plain(kv.create_or_update_secret("app/db", {"user": "u2", "password": "p2"}, mount_point="kv1"))
    put = plain(kv.create_or_update_secret("app/api", {"key": "k"}, method="PUT", mount_point="kv1"))
    read = kv.read_secret("app/db", mount_point="kv1")
    listed = kv.list_secrets("app", mount_point="kv1")
    top = kv.list_secrets("", mount_point="kv1")
    deleted = plain(kv.delete_secret("app/api", mount_point="kv1"))
    return {"create": created, "update": updated, "put": put, "read": read, "list": listed, "list_top": top,
            "delete": deleted, "read_deleted": outcome(kv.read_secret, "app/api", mount_point="kv1"),
            "list_missing": outcome(kv.list_secrets, "nothing-here", mount_point="kv1")}


def v2_configure(_args):
    kv = client().secrets.kv.v2
    before = kv.read_configuration(mount_point="kvcfg")
    configured = plain(kv.configure(max_versions=5, cas_required=False, mount_point="kvcfg"))
    after = kv.read_configuration(mount_point="kvcfg")
    return {"before": before, "configure": configured, "after": after}


def v2_write_read_cas(_args):
    kv = client().secrets.kv.v2
    first = kv.create_or_update_secret("hv/cas", {"a": "1"})
    second = kv.create_or_update_secret("hv/cas", {"a": "2"}, cas=1)
    stale = outcome(kv.create_or_update_secret, "hv/cas", {"a": "3"}, cas=1)
    create_only = outcome(kv.create_or_update_secret, "hv/cas", {"a": "3"}, cas=0)
    cas_on_missing = outcome(kv.create_or_update_secret, "hv/cas-missing", {"a": "1"}, cas=1)
    return {
        "first": first,
        "second": second,
        "stale_cas": stale,
        "cas_zero_existing": create_only,
        "cas_on_missing": cas_on_missing,
        "latest": kv.read_secret_version("hv/cas"),
        "version1": kv.read_secret_version("hv/cas", version=1),
        "read_secret": kv.read_secret("hv/cas"),
        "missing": outcome(kv.read_secret_version, "hv/never-written"),
    }


def v2_patch(_args):
    kv = client().secrets.kv.v2
    kv.create_or_update_secret("hv/patch", {"a": "1", "b": "2"})
    patched = kv.patch("hv/patch", {"b": "3", "c": "4"})
    return {"patch": patched, "read": kv.read_secret_version("hv/patch"),
            "patch_missing": outcome(kv.patch, "hv/patch-missing", {"x": "1"})}


def v2_delete_undelete_destroy(_args):
    c = client()
    kv = c.secrets.kv.v2
    for n in range(1, 4):
        kv.create_or_update_secret("hv/life", {"n": str(n)})
    deleted_latest = plain(kv.delete_latest_version_of_secret("hv/life"))
    # hvac 0.11 raises InvalidPath for a soft-deleted version (raise_on_deleted_version=False came in hvac 1.0);
    # Vault's 404 still carries the version's metadata, read here through the adapter without raising.
    deleted_read = outcome(kv.read_secret_version, "hv/life")
    deleted_raw = plain(c.adapter.get("/v1/secret/data/hv/life", raise_exception=False))
    undeleted = plain(kv.undelete_secret_versions("hv/life", [3]))
    after_undelete = kv.read_secret_version("hv/life")
    deleted_v1 = plain(kv.delete_secret_versions("hv/life", [1]))
    v1_raw = plain(c.adapter.get("/v1/secret/data/hv/life", params={"version": 1}, raise_exception=False))
    destroyed = plain(kv.destroy_secret_versions("hv/life", [2]))
    v2_raw = plain(c.adapter.get("/v1/secret/data/hv/life", params={"version": 2}, raise_exception=False))
    return {
        "delete_latest": deleted_latest,
        "read_deleted": deleted_read,
        "read_deleted_raw": deleted_raw,
        "undelete": undeleted,
        "after_undelete": after_undelete,
        "delete_v1": deleted_v1,
        "read_v1_raw": v1_raw,
        "destroy_v2": destroyed,
        "read_v2_raw": v2_raw,
        "metadata": kv.read_secret_metadata("hv/life"),
    }


def v2_metadata(_args):
    kv = client().secrets.kv.v2
    kv.create_or_update_secret("hv/meta/one", {"a": "1"})
    kv.create_or_update_secret("hv/meta/two", {"a": "1"})
    kv.create_or_update_secret("hv/meta/sub/three", {"a": "1"})
    before = kv.read_secret_metadata("hv/meta/one")
    updated = plain(kv.update_metadata("hv/meta/one", max_versions=3, cas_required=True))
    after = kv.read_secret_metadata("hv/meta/one")
    no_cas = outcome(kv.create_or_update_secret, "hv/meta/one", {"a": "2"})
    with_cas = kv.create_or_update_secret("hv/meta/one", {"a": "2"}, cas=1)
    listed = kv.list_secrets("hv/meta")
    deleted = plain(kv.delete_metadata_and_all_versions("hv/meta/two"))
    return {
        "before": before,
        "update": updated,
        "after": after,
        "write_without_cas": no_cas,
        "write_with_cas": with_cas,
        "list": listed,
        "delete_metadata": deleted,
        "metadata_after_delete": outcome(kv.read_secret_metadata, "hv/meta/two"),
        "read_after_delete": outcome(kv.read_secret_version, "hv/meta/two"),
        "list_after_delete": kv.list_secrets("hv/meta"),
    }


if __name__ == "__main__":
    main({f.__name__: f for f in [v1_crud, v2_configure, v2_write_read_cas, v2_patch, v2_delete_undelete_destroy,
                                   v2_metadata]})
