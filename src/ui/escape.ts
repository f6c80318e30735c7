/**
 * The one escaping of text that came from outside (certificate subjects and SANs, CSR
 * fields, index lines) before it reaches a terminal: C0 and C1 control characters (ESC
 * starts terminal sequences), DEL, and the bidi overrides that reorder what is shown, as
 * `\XX` (RFC 4514 style hex) or `\u{XXXX}`. Every human output that prints a subject or
 * SAN goes through it; JSON output keeps the values (JSON escapes them itself).
 *
 * `escapeTerminalText` escapes whole lines of human output (as JSON's `\u001B`), keeping the
 * newlines and tabs that lay them out (and chalk's colour codes when colour is on):
 * guardTerminal (output.ts) passes every string written to stdout and stderr through it.
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

// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
const UNSAFE_TEXT_CHAR = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
const UNSAFE_TEXT = /\u001b\[[0-9;]*m|[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

/** `\u001B`: readable on a terminal, and inside a JSON string the same character again. */
const JSON_ESCAPE = (c: string): string => `\\u${c.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}`;

/**
 * Human output text with terminal control characters escaped, except line feeds and tabs,
 * and colour codes (SGR: ESC [ digits m) when `keepColour` (colour is on for that stream).
 * The form is JSON's `\u001B`, so a JSON line on stderr (serve's API Gateway access log)
 * still parses to the same value. Unchanged (same string) when there is nothing to escape.
 */
export function escapeTerminalText(s: string, keepColour: boolean): string {
  if (!UNSAFE_TEXT_CHAR.test(s)) return s;
  return s.replace(UNSAFE_TEXT, (c) => (c.length > 1 && keepColour ? c : c.length > 1 ? `${JSON_ESCAPE(c[0]!)}${c.slice(1)}` : JSON_ESCAPE(c)));
}
