"""sys/mounts (enable, disable, tune, read, list), sys/remount and sys/auth
through hvac's client.sys, as root on a -dev server."""
import time

from _harness import client, main, outcome, plain


def enable_defaults(_args):
    c = client()
    # Every optional argument left at hvac's default: description/config/options/plugin_name go out as null.
    enabled = outcome(c.sys.enable_secrets_engine, "kv", path="hv-defaults")
    mounts = c.sys.list_mounted_secrets_engines()
    return {"enable": enabled, "entry": mounts["data"].get("hv-defaults/")}


def enable_kv2(_args):
    c = client()
    enabled = outcome(c.sys.enable_secrets_engine, "kv", path="hv-kv2", description="versioned", options={"version": "2"})
    mounts = c.sys.list_mounted_secrets_engines()
    return {"enable": enabled, "entry": mounts["data"].get("hv-kv2/"),
            "version": c.sys.retrieve_mount_option("hv-kv2", "version") if "hv-kv2/" in mounts["data"] else None}


def enable_with_config(_args):
    c = client()
    enabled = outcome(c.sys.enable_secrets_engine, "transit", path="hv-transit", description="encryption",
                      config={"default_lease_ttl": "1h", "max_lease_ttl": "2h"}, options={})
    mounts = c.sys.list_mounted_secrets_engines()
    return {"enable": enabled, "entry": mounts["data"].get("hv-transit/")}


def enable_generic(_args):
    c = client()
    enabled = outcome(c.sys.enable_secrets_engine, "generic", path="hv-generic", description="old name of kv")
    entry = c.sys.list_mounted_secrets_engines()["data"].get("hv-generic/")
    written = outcome(c.write, "hv-generic/app", value="v1") if entry else None
    read = c.read("hv-generic/app") if entry else None
    return {"enable": enabled, "entry": entry, "write": written, "read": read}


def list_mounts(_args):
    c = client()
    return {"mounts": c.sys.list_mounted_secrets_engines(), "secret_version": c.sys.retrieve_mount_option("secret", "version")}


def tune(_args):
    c = client()
    before = c.sys.read_mount_configuration("hv-tune")
    tuned = plain(c.sys.tune_mount_configuration("hv-tune", default_lease_ttl="1h", max_lease_ttl="2h",
                                                 description="tuned by hvac"))
    after = c.sys.read_mount_configuration("hv-tune")
    listed = c.sys.list_mounted_secrets_engines()["data"]["hv-tune/"]
    # GET sys/mounts/<path> (Vault 1.10+; hvac 0.11 has no method for it).
    single = c.read("sys/mounts/hv-tune")
    return {"before": before, "tune": tuned, "after": after, "listed": listed, "single": single}


def move(_args):
    c = client()
    moved = c.sys.move_backend("hv-move-a", "hv-move-b")
    migration_id = moved["data"]["migration_id"]
    status = None
    for _ in range(50):
        status = c.read("sys/remount/status/" + migration_id)
        if status and status["data"]["migration_info"]["status"] != "in-progress":
            break
        time.sleep(0.1)
    mounts = c.sys.list_mounted_secrets_engines()["data"]
    return {"move": moved, "status": status, "has_from": "hv-move-a/" in mounts, "has_to": "hv-move-b/" in mounts,
            "read": c.read("hv-move-b/kept")}


def disable(_args):
    c = client()
    disabled = plain(c.sys.disable_secrets_engine("hv-disable"))
    mounts = c.sys.list_mounted_secrets_engines()["data"]
    return {"disable": disabled, "still_listed": "hv-disable/" in mounts,
            "read_after": outcome(c.secrets.kv.v1.read_secret, "kept", mount_point="hv-disable")}


def auth_methods(_args):
    return client().sys.list_auth_methods()


if __name__ == "__main__":
    main({f.__name__: f for f in [enable_defaults, enable_kv2, enable_with_config, enable_generic, list_mounts, tune,
                                   move, disable, auth_methods]})
