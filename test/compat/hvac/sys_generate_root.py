"""sys/generate-root/* and sys/decode-token through hvac; shares are unseal keys
(Shamir) or recovery keys (HSM seal)."""
from _harness import client, decode_root_token, main, outcome, plain


def progress_idle(_args):
    return client("").sys.read_root_generation_progress()


def start_and_cancel(_args):
    c = client("")
    started = c.sys.start_root_token_generation()
    progress = c.sys.read_root_generation_progress()
    # hvac's cancel_root_generation sends no nonce; Tresor requires it (an anonymous client must not wipe an
    # operator's progress), so the attempt survives, and a cancel with the nonce ends it.
    cancel_without_nonce = outcome(c.sys.cancel_root_generation)
    still = c.sys.read_root_generation_progress()
    cancelled = plain(c.adapter.delete("/v1/sys/generate-root/attempt", json={"nonce": started["nonce"]}))
    return {"started": started, "progress": progress, "cancel_without_nonce": cancel_without_nonce, "still": still,
            "cancel": cancelled, "after": c.sys.read_root_generation_progress()}


def generate(args):
    c = client("")
    started = c.sys.start_root_token_generation()
    steps = []
    for key in args["keys"]:
        steps.append(c.sys.generate_root(key, started["nonce"]))
        if steps[-1].get("complete"):
            break
    final = steps[-1]
    token = decode_root_token(final["encoded_token"], started["otp"])
    lookup = client(token).auth.token.lookup_self()
    return {"started": started, "steps": steps, "token_prefix": token[:4], "token_length": len(token),
            "lookup_policies": lookup["data"]["policies"], "token": token,
            "after": c.sys.read_root_generation_progress()}


if __name__ == "__main__":
    main({f.__name__: f for f in [progress_idle, start_and_cancel, generate]})
