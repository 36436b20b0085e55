"""transit/ through hvac's client.secrets.transit, as root on a -dev server
(the node test mounts transit at transit/)."""
import base64
import hashlib

from _harness import b64, client, main, outcome, plain, unb64


def keys(_args):
    t = client().secrets.transit
    created = plain(t.create_key("hv-key"))
    created_typed = plain(t.create_key("hv-key-chacha", key_type="chacha20-poly1305"))
    return {"create": created, "create_typed": created_typed, "read": t.read_key("hv-key"),
            "read_typed": t.read_key("hv-key-chacha"), "list": t.list_keys(),
            "read_missing": outcome(t.read_key, "hv-no-such-key")}


def encrypt_rotate_rewrap(_args):
    t = client().secrets.transit
    t.create_key("hv-crypt")
    enc1 = t.encrypt_data("hv-crypt", b64("hello"))
    dec1 = t.decrypt_data("hv-crypt", enc1["data"]["ciphertext"])
    rotated = plain(t.rotate_key("hv-crypt"))
    read = t.read_key("hv-crypt")
    enc2 = t.encrypt_data("hv-crypt", b64("hello"))
    rewrapped = t.rewrap_data("hv-crypt", enc1["data"]["ciphertext"])
    configured = plain(t.update_key_configuration("hv-crypt", min_decryption_version=2))
    too_old = outcome(t.decrypt_data, "hv-crypt", enc1["data"]["ciphertext"])
    dec_rewrapped = t.decrypt_data("hv-crypt", rewrapped["data"]["ciphertext"])
    return {"encrypt_v1": enc1, "decrypt_v1": dec1, "plaintext_v1": unb64(dec1["data"]["plaintext"]),
            "rotate": rotated, "read_after_rotate": read, "encrypt_v2": enc2, "rewrap": rewrapped,
            "configure": configured, "decrypt_too_old": too_old, "read_after_config": t.read_key("hv-crypt"),
            "plaintext_rewrapped": unb64(dec_rewrapped["data"]["plaintext"])}


def batch(_args):
    t = client().secrets.transit
    t.create_key("hv-batch")
    # batch_input replaces plaintext/ciphertext, which hvac still sends (as null when not given).
    enc = t.encrypt_data("hv-batch", plaintext=None, batch_input=[{"plaintext": b64("one")}, {"plaintext": b64("two")}])
    items = [{"ciphertext": r["ciphertext"]} for r in enc["data"]["batch_results"]]
    dec = t.decrypt_data("hv-batch", ciphertext=None, batch_input=items)
    return {"encrypt": enc, "decrypt": dec, "plaintexts": [unb64(r["plaintext"]) for r in dec["data"]["batch_results"]]}


def datakey_random_hash(_args):
    t = client().secrets.transit
    t.create_key("hv-dk")
    plain_key = t.generate_data_key("hv-dk", key_type="plaintext")
    wrapped_key = t.generate_data_key("hv-dk", key_type="wrapped", bits=512)
    unwrapped = t.decrypt_data("hv-dk", plain_key["data"]["ciphertext"])
    rnd = t.generate_random_bytes(n_bytes=16)
    rnd_hex = t.generate_random_bytes(n_bytes=8, output_format="hex")
    h = t.hash_data(b64("hello"), algorithm="sha2-256")
    h_b64 = t.hash_data(b64("hello"), algorithm="sha2-512", output_format="base64")
    return {
        "datakey_plaintext": plain_key,
        "datakey_wrapped": wrapped_key,
        "datakey_roundtrip": unwrapped["data"]["plaintext"] == plain_key["data"]["plaintext"],
        "datakey_length": len(base64.b64decode(plain_key["data"]["plaintext"])),
        "random": rnd,
        "random_length": len(base64.b64decode(rnd["data"]["random_bytes"])),
        "random_hex": rnd_hex,
        "hash": h,
        "hash_expected": hashlib.sha256(b"hello").hexdigest(),
        "hash_b64": h_b64,
        "hash_b64_expected": base64.b64encode(hashlib.sha512(b"hello").digest()).decode(),
    }


def hmac_verify(_args):
    t = client().secrets.transit
    t.create_key("hv-mac")
    mac = t.generate_hmac("hv-mac", b64("message"))
    mac512 = t.generate_hmac("hv-mac", b64("message"), algorithm="sha2-512")
    good = t.verify_signed_data("hv-mac", b64("message"), hmac=mac["data"]["hmac"])
    bad = t.verify_signed_data("hv-mac", b64("other message"), hmac=mac["data"]["hmac"])
    good512 = t.verify_signed_data("hv-mac", b64("message"), hmac=mac512["data"]["hmac"], hash_algorithm="sha2-512")
    return {"hmac": mac, "hmac512": mac512, "valid": good, "invalid": bad, "valid512": good512}


def delete_key(_args):
    t = client().secrets.transit
    t.create_key("hv-delete")
    refused = outcome(t.delete_key, "hv-delete")
    configured = plain(t.update_key_configuration("hv-delete", deletion_allowed=True))
    deleted = plain(t.delete_key("hv-delete"))
    return {"refused": refused, "configure": configured, "delete": deleted,
            "read_after": outcome(t.read_key, "hv-delete"), "list_after": outcome(t.list_keys)}


def sign_verify(_args):
    t = client().secrets.transit
    t.create_key("hv-crypt-for-sign")
    out = {}
    for key_type in ["ed25519", "ecdsa-p256", "rsa-2048"]:
        name = "hv-sign-" + key_type
        t.create_key(name, key_type=key_type)
        sig = t.sign_data(name, b64("message"))
        out[key_type] = {
            "sign": sig,
            "valid": t.verify_signed_data(name, b64("message"), signature=sig["data"]["signature"]),
            "invalid": t.verify_signed_data(name, b64("other"), signature=sig["data"]["signature"]),
        }
    jws = t.sign_data("hv-sign-ecdsa-p256", b64("message"), hash_algorithm="sha2-384", marshaling_algorithm="jws")
    out["jws"] = jws
    out["jws_valid"] = t.verify_signed_data("hv-sign-ecdsa-p256", b64("message"), signature=jws["data"]["signature"],
                                            hash_algorithm="sha2-384", marshaling_algorithm="jws")
    digest = base64.b64encode(hashlib.sha256(b"message").digest()).decode()
    pkcs = t.sign_data("hv-sign-rsa-2048", digest, prehashed=True, signature_algorithm="pkcs1v15")
    out["pkcs_valid"] = t.verify_signed_data("hv-sign-rsa-2048", b64("message"), signature=pkcs["data"]["signature"],
                                             signature_algorithm="pkcs1v15")
    out["sign_with_aes"] = outcome(t.sign_data, "hv-crypt-for-sign", b64("message"))
    return out


def export_backup_restore_trim(_args):
    t = client().secrets.transit
    t.create_key("hv-export", exportable=True, allow_plaintext_backup=True)
    t.rotate_key("hv-export")
    enc = t.encrypt_data("hv-export", b64("kept"))
    exported = t.export_key("hv-export", key_type="encryption-key")
    latest = t.export_key("hv-export", key_type="hmac-key", version="latest")
    backup = t.backup_key("hv-export")
    restored = plain(t.restore_key(backup["data"]["backup"], name="hv-restored"))
    again = outcome(t.restore_key, backup["data"]["backup"], name="hv-restored")
    forced = plain(t.restore_key(backup["data"]["backup"], name="hv-restored", force=True))
    dec = t.decrypt_data("hv-restored", enc["data"]["ciphertext"])
    t.rotate_key("hv-export")
    # hvac insists on min_encryption_version > min_decryption_version.
    t.update_key_configuration("hv-export", min_decryption_version=2, min_encryption_version=3)
    trimmed = t.trim_key("hv-export", min_version=2)
    t.create_key("hv-locked")
    return {"export": exported, "latest": latest, "backup": backup, "restore": restored, "restore_again": again,
            "restore_forced": forced, "restored_plaintext": unb64(dec["data"]["plaintext"]), "trim": trimmed,
            "export_locked": outcome(t.export_key, "hv-locked", key_type="encryption-key"),
            "backup_locked": outcome(t.backup_key, "hv-locked")}


if __name__ == "__main__":
    main({f.__name__: f for f in [keys, encrypt_rotate_rewrap, batch, datakey_random_hash, hmac_verify, delete_key, sign_verify,
                                  export_backup_restore_trim]})
