"""identity/* through hvac 0.11's client.secrets.identity, as root on a -dev server."""
from _harness import client, main, outcome, plain


def entities(args):
    c = client()
    identity = c.secrets.identity
    created = identity.create_or_update_entity(name="hv-alice", policies=["hv-app"], metadata={"team": "ops"})
    entity_id = created["data"]["id"]
    alias = identity.create_or_update_entity_alias(name="hv-alice", canonical_id=entity_id, mount_accessor=args["accessor"])
    return {
        "created": created,
        "read": identity.read_entity(entity_id),
        "by_name": identity.read_entity_by_name("hv-alice"),
        "updated": plain(identity.update_entity(entity_id, policies=["hv-app", "hv-other"])),
        "alias": alias,
        "read_alias": identity.read_entity_alias(alias["data"]["id"]),
        "lookup": identity.lookup_entity(alias_name="hv-alice", alias_mount_accessor=args["accessor"]),
        "listed": identity.list_entities(),
        "listed_get": identity.list_entities(method="GET"),
        "bad_alias": outcome(identity.create_or_update_entity_alias, name="x", canonical_id=entity_id, mount_accessor="nope"),
        "deleted": plain(identity.delete_entity(entity_id)),
        "gone": outcome(identity.read_entity, entity_id),
    }


def groups(_args):
    c = client()
    identity = c.secrets.identity
    member = identity.create_or_update_entity(name="hv-member")["data"]["id"]
    created = identity.create_or_update_group(name="hv-devs", policies=["hv-app"], member_entity_ids=[member], metadata={"env": "prod"})
    group_id = created["data"]["id"]
    parent = identity.create_or_update_group(name="hv-staff", member_group_ids=[group_id])
    return {
        "created": created,
        "parent": parent,
        "read": identity.read_group(group_id),
        "by_name": identity.read_group_by_name("hv-staff"),
        "entity": identity.read_entity(member),
        "by_name_update": plain(identity.create_or_update_group_by_name("hv-devs", policies=["hv-other"])),
        "lookup": identity.lookup_group(name="hv-devs"),
        "listed": identity.list_groups(),
        "cycle": outcome(identity.create_or_update_group, name="hv-devs", group_id=group_id, member_group_ids=[parent["data"]["id"]]),
        "deleted": plain(identity.delete_group(group_id)),
    }


if __name__ == "__main__":
    main({f.__name__: f for f in [entities, groups]})
