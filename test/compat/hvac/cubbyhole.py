"""cubbyhole/ through hvac's generic client.read/write/list/delete, with two
tokens that must not see each other's entries."""
from _harness import client, main, outcome, plain


def crud(args):
    mine = client(args["token_a"])
    theirs = client(args["token_b"])
    written = plain(mine.write("cubbyhole/app/one", secret="s1"))
    mine.write("cubbyhole/app/two", secret="s2")
    read = mine.read("cubbyhole/app/one")
    listed = mine.list("cubbyhole/app")
    other_read = theirs.read("cubbyhole/app/one")
    other_list = theirs.list("cubbyhole/app")
    mine.delete("cubbyhole/app/one")
    return {"write": written, "read": read, "list": listed, "other_read": other_read, "other_list": other_list,
            "read_after_delete": mine.read("cubbyhole/app/one"), "list_after_delete": mine.list("cubbyhole/app")}


if __name__ == "__main__":
    main({"crud": crud})
