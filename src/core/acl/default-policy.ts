/**
 * The built-in `default` policy, attached to tokens unless asked otherwise.
 * It lets a token look after itself and use its private cubbyhole and the
 * response-wrapping tools, and nothing else. Operators may rewrite it.
 */
export const DEFAULT_POLICY_TEXT = `# Built-in policy granted to every token by default. It may be edited but
# not deleted.

# A token may inspect, renew and revoke itself.
path "auth/token/lookup-self" {
  capabilities = ["read"]
}

path "auth/token/renew-self" {
  capabilities = ["update"]
}

path "auth/token/revoke-self" {
  capabilities = ["update"]
}

# A token may ask what it is allowed to do on a path.
path "sys/capabilities-self" {
  capabilities = ["update"]
}

# The UI reads the caller's effective policy to decide what to show.
path "sys/internal/ui/resultant-acl" {
  capabilities = ["read"]
}

# Leases held by the token can be renewed and looked up.
path "sys/renew" {
  capabilities = ["update"]
}

path "sys/leases/renew" {
  capabilities = ["update"]
}

path "sys/leases/lookup" {
  capabilities = ["update"]
}

# The cubbyhole is private to each token, so full access is safe.
path "cubbyhole/*" {
  capabilities = ["create", "read", "update", "delete", "list"]
}

# Response wrapping: wrap data, inspect and open wrapping tokens.
path "sys/wrapping/wrap" {
  capabilities = ["update"]
}

path "sys/wrapping/lookup" {
  capabilities = ["update"]
}

path "sys/wrapping/unwrap" {
  capabilities = ["update"]
}

# Hashing helpers carry no secret of the server.
path "sys/tools/hash" {
  capabilities = ["update"]
}

path "sys/tools/hash/*" {
  capabilities = ["update"]
}
`;

/** The built-in policy of every response-wrapping token; it cannot be written, deleted or assigned. */
export const RESPONSE_WRAPPING_POLICY_NAME = 'response-wrapping';

/**
 * What a wrapping token may do: read (or create) its own `cubbyhole/response`
 * and unwrap itself (Vault's rules).
 */
export const RESPONSE_WRAPPING_POLICY_TEXT = `path "cubbyhole/response" {
  capabilities = ["create", "read"]
}

path "sys/wrapping/unwrap" {
  capabilities = ["update"]
}
`;
