"""Recovery-key flows through hvac on a server with the PKCS#11 (HSM) seal:
init with recovery shares, seal-status, manual seal + unseal with recovery
keys, sys/rekey-recovery-key/*, recovery key backup. (generate-root with
recovery keys runs sys_generate_root.py against the same server.)"""
from _harness import client, main, outcome, plain


def initialize_defaults(_args):
    # hvac's defaults (secret_shares=5, secret_threshold=3) do not apply to an auto-unseal seal.
    return outcome(client("").sys.initialize)


def initialize(_args):
    return outcome(client("").sys.initialize, secret_shares=None, secret_threshold=None,
                   recovery_shares=3, recovery_threshold=2)


def seal_status(_args):
    return client("").sys.read_seal_status()


def seal_and_unseal(args):
    c = client(args["root_token"])
    sealed = plain(c.sys.seal())
    status = c.sys.read_seal_status()
    first = c.sys.submit_unseal_key(args["keys"][0])
    last = c.sys.submit_unseal_keys(args["keys"][1:])
    return {"seal": sealed, "sealed_status": status, "first": first, "last": last, "is_sealed": c.sys.is_sealed()}


def rekey_recovery(args):
    c = client("")
    started = c.sys.start_rekey(secret_shares=4, secret_threshold=3, recovery_key=True)
    progress = c.sys.read_rekey_progress(recovery_key=True)
    cancel_without_nonce = outcome(c.sys.cancel_rekey, recovery_key=True)
    cancel_with_nonce = plain(c.adapter.delete("/v1/sys/rekey-recovery-key/init", json={"nonce": started["nonce"]}))
    idle = c.sys.read_rekey_progress(recovery_key=True)
    again = c.sys.start_rekey(secret_shares=4, secret_threshold=3, recovery_key=True)
    done = c.sys.rekey_multi(args["keys"], nonce=again["nonce"], recovery_key=True)
    return {"started": started, "progress": progress, "cancel_without_nonce": cancel_without_nonce,
            "cancel_with_nonce": cancel_with_nonce, "idle": idle, "done": done,
            "status": c.sys.read_seal_status()}


def backup_none(args):
    return outcome(client(args["root_token"]).sys.read_backup_keys, recovery_key=True)


if __name__ == "__main__":
    main({f.__name__: f for f in [initialize_defaults, initialize, seal_status, seal_and_unseal, rekey_recovery,
                                   backup_none]})
