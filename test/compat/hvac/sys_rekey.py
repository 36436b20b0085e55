"""sys/rekey/* (init, update, verify, cancel, backup) through hvac, on a Shamir server."""
from _harness import client, main, outcome, plain


def progress_idle(_args):
    return client("").sys.read_rekey_progress()


def start_and_cancel(_args):
    c = client("")
    started = c.sys.start_rekey(secret_shares=3, secret_threshold=2)
    progress = c.sys.read_rekey_progress()
    # hvac 0.11's cancel_rekey sends no nonce; Vault 1.17.18+/1.20 requires it within 10 minutes.
    cancel_without_nonce = outcome(c.sys.cancel_rekey)
    still = c.sys.read_rekey_progress()
    # What a current client sends: DELETE with {"nonce": ...}.
    cancel_with_nonce = plain(c.adapter.delete("/v1/sys/rekey/init", json={"nonce": started["nonce"]}))
    after = c.sys.read_rekey_progress()
    return {"started": started, "progress": progress, "cancel_without_nonce": cancel_without_nonce, "still": still,
            "cancel_with_nonce": cancel_with_nonce, "after": after}


def rekey(args):
    c = client("")
    started = c.sys.start_rekey(secret_shares=3, secret_threshold=2)
    first = c.sys.rekey(args["keys"][0], nonce=started["nonce"])
    done = c.sys.rekey_multi(args["keys"][1:], nonce=started["nonce"])
    return {"started": started, "first": first, "done": done, "after": c.sys.read_rekey_progress()}


def rekey_verify(args):
    c = client("")
    started = c.sys.start_rekey(secret_shares=3, secret_threshold=2, require_verification=True)
    done = c.sys.rekey_multi(args["keys"], nonce=started["nonce"])
    progress = c.sys.read_rekey_verify_progress()
    restarted = plain(c.sys.cancel_rekey_verify())
    nonce = restarted["nonce"] if isinstance(restarted, dict) and "nonce" in restarted else done["verification_nonce"]
    verified = c.sys.rekey_verify_multi(done["keys"][:2], nonce=nonce)
    return {"started": started, "done": done, "progress": progress, "restarted": restarted, "verified": verified}


def backup_none(args):
    return outcome(client(args["root_token"]).sys.read_backup_keys)


if __name__ == "__main__":
    main({f.__name__: f for f in [progress_idle, start_and_cancel, rekey, rekey_verify, backup_none]})
