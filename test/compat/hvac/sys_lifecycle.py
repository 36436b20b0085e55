"""sys/init, sys/seal-status, sys/unseal, sys/seal, sys/health, sys/leader,
sys/rotate and sys/key-status through hvac's client.sys, on a Shamir server."""
from _harness import client, main, outcome, plain


def init_status(_args):
    c = client("")
    return {
        "read": c.sys.read_init_status(),
        "is_initialized": c.sys.is_initialized(),
        "health": plain(c.sys.read_health_status(method="GET")),
    }


def initialize(_args):
    # hvac's defaults: 5 shares, threshold 3 (and root_token_pgp_key=None sent as null).
    return outcome(client("").sys.initialize)


def initialize_again(_args):
    return outcome(client("").sys.initialize, secret_shares=3, secret_threshold=2)


def seal_status(_args):
    c = client("")
    return {"status": c.sys.read_seal_status(), "is_sealed": c.sys.is_sealed()}


def health(_args):
    c = client("")
    return {
        "head": plain(c.sys.read_health_status()),
        "get": plain(c.sys.read_health_status(method="GET")),
        "sealed_code": plain(c.sys.read_health_status(method="GET", sealed_code=200)),
    }


def sealed_requests(args):
    c = client(args["root_token"])
    return {
        "kv_read": outcome(c.secrets.kv.v1.read_secret, "anything", mount_point="secret"),
        "mounts": outcome(c.sys.list_mounted_secrets_engines),
    }


def unseal_progress(args):
    c = client("")
    first = c.sys.submit_unseal_key(args["keys"][0])
    reset = c.sys.submit_unseal_key(reset=True)
    return {"first": first, "reset": reset}


def unseal(args):
    c = client("")
    return {"last": c.sys.submit_unseal_keys(args["keys"]), "is_sealed": c.sys.is_sealed()}


def unseal_when_unsealed(args):
    c = client("")
    return {
        "empty_key": outcome(c.sys.submit_unseal_key, key=""),
        "reset": outcome(c.sys.submit_unseal_key, reset=True),
        "valid_key": outcome(c.sys.submit_unseal_key, key=args["keys"][0]),
    }


def leader(_args):
    return client("").sys.read_leader_status()


def health_unsealed(_args):
    c = client("")
    return {"get": plain(c.sys.read_health_status(method="GET")), "head": plain(c.sys.read_health_status())}


def key_status_rotate(args):
    c = client(args["root_token"])
    before = c.sys.get_encryption_key_status()
    rotated = plain(c.sys.rotate_encryption_key())
    after = c.sys.get_encryption_key_status()
    return {"before": before, "rotate": rotated, "after": after, "key_status": c.key_status}


def seal(args):
    c = client(args["root_token"])
    return {"seal": plain(c.sys.seal()), "is_sealed": c.sys.is_sealed()}


def seal_then_unseal(args):
    """Seals, then unseals with args.keys: proves which key set is in force."""
    c = client(args["root_token"])
    c.sys.seal()
    return {"sealed": c.sys.is_sealed(), "unseal": outcome(c.sys.submit_unseal_keys, args["keys"]), "is_sealed": c.sys.is_sealed()}


if __name__ == "__main__":
    main({f.__name__: f for f in [init_status, initialize, initialize_again, seal_status, health, sealed_requests,
                                   unseal_progress, unseal, unseal_when_unsealed, leader, health_unsealed,
                                   key_status_rotate, seal, seal_then_unseal]})
