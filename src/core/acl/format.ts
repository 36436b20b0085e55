import { badRequest } from '../errors.ts';
import { parseDocument, printHcl, looksLikeJson } from '../../config/hcl.ts';
import { parsePolicy } from './policy.ts';

/**
 * Canonical form of a policy document for `policy fmt`. The policy is
 * validated first (TresorError 400 on any problem). HCL comes back as HCL
 * with two-space indentation, aligned `=` and comments kept; JSON comes back
 * as two-space indented JSON.
 */
export function formatPolicy(text: string): string {
  parsePolicy('fmt', text);
  if (looksLikeJson(text)) {
    try {
      return JSON.stringify(JSON.parse(text), null, 2) + '\n';
    } catch {
      // Our reader tolerates comments in JSON; JSON.parse does not.
      throw badRequest('failed to format policy: JSON policies must be strict JSON (no comments)');
    }
  }
  return printHcl(parseDocument(text, 'hcl'));
}
