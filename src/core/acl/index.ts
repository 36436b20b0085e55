/** ACL policies: parsing, the per-request access check and the policy store. */
export { ACL, type AccessDecision, type AclRequest } from './acl.ts';
export { CAPABILITIES, parsePolicy, type Capability, type ParameterValue, type PathRule, type Policy } from './policy.ts';
export { PolicyStore, ROOT_POLICY } from './store.ts';
export { DEFAULT_POLICY_TEXT, RESPONSE_WRAPPING_POLICY_NAME, RESPONSE_WRAPPING_POLICY_TEXT } from './default-policy.ts';
export { formatPolicy } from './format.ts';
