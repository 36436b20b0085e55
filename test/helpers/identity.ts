/**
 * Tokens tied to identity entities, for tests that run before any login
 * method exists: an entity alias on the token store's own mount, and a
 * token role whose allowed_entity_aliases lets auth/token/create/<role>
 * name it (Vault's entity_alias), so the token carries that entity.
 */
import assert from 'node:assert/strict';
import type { Api } from './server.ts';

export const ENTITY_ROLE = 'entity-tokens';

export class EntityTokens {
  private constructor(
    private readonly api: Api,
    /** The accessor of auth/token/ (the aliases' mount). */
    readonly accessor: string,
  ) {}

  /** Sets up the role (tokens get only `default` of their own) and reads the token mount's accessor. */
  static async setup(api: Api): Promise<EntityTokens> {
    const auth = await api.get('sys/auth');
    assert.equal(auth.status, 200, JSON.stringify(auth.body));
    const accessor = auth.body.data['token/'].accessor as string;
    const role = await api.post(`auth/token/roles/${ENTITY_ROLE}`, { allowed_policies: 'default', allowed_entity_aliases: '*' });
    assert.equal(role.status, 204, JSON.stringify(role.body));
    return new EntityTokens(api, accessor);
  }

  /** Creates an entity (with `body`: name, policies, metadata...) and an alias on the token mount; returns its id. */
  async entity(body: Record<string, unknown>, aliasName = String(body.name)): Promise<string> {
    const made = await this.api.post('identity/entity', body);
    assert.equal(made.status, 200, JSON.stringify(made.body));
    const id = made.body.data.id as string;
    const alias = await this.api.post('identity/entity-alias', { name: aliasName, canonical_id: id, mount_accessor: this.accessor });
    assert.equal(alias.status, 200, JSON.stringify(alias.body));
    return id;
  }

  /** A service token (policies: default) tied to the entity of `aliasName`. */
  async token(aliasName: string, extra: Record<string, unknown> = {}): Promise<{ token: string; entityId: string }> {
    const res = await this.api.post(`auth/token/create/${ENTITY_ROLE}`, { entity_alias: aliasName, ...extra });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    return { token: res.body.auth.client_token, entityId: res.body.auth.entity_id };
  }
}
