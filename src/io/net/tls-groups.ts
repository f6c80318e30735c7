/**
 * Whether the running Node's OpenSSL knows a TLS key-exchange group (X25519MLKEM768 needs
 * OpenSSL 3.5 or later): a secure context with that group alone either builds or throws.
 */
import tls from 'node:tls';

const known = new Map<string, boolean>();

export function opensslSupportsGroup(group: string): boolean {
  let ok = known.get(group);
  if (ok === undefined) {
    try {
      tls.createSecureContext({ecdhCurve: group});
      ok = true;
    } catch {
      ok = false;
    }
    known.set(group, ok);
  }
  return ok;
}
