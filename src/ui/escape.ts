/**
 * The one escaping of text that came from outside (certificate subjects and SANs, CSR
 * fields, index lines) before it reaches a terminal: C0 and C1 control characters (ESC
 * starts terminal sequences), DEL, and the bidi overrides that reorder what is shown, as
 * `\XX` (RFC 4514 style hex) or `\u{XXXX}`. Every human output that prints a subject or
 * SAN goes through it; JSON output keeps the values (JSON escapes them itself).
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

/** `s` with terminal control characters escaped; unchanged (same string) when it has none. */
export function escapeTerminal(s: string): string {
  UNSAFE.lastIndex = 0;
  if (!UNSAFE.test(s)) return s;
  return s.replace(UNSAFE, (c) => {
    const n = c.charCodeAt(0);
    return n < 0x100 ? `\\${n.toString(16).toUpperCase().padStart(2, '0')}` : `\\u{${n.toString(16).toUpperCase()}}`;
  });
}
