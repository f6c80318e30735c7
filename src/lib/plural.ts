/**
 * Counts in messages: `plural(1, 'entry', 'entries')` is "1 entry", `plural(2, 'object')` is
 * "2 objects". One rule for every command, instead of "1 entries" or "2 object(s)".
 */
export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n.toLocaleString('en-US')} ${n === 1 ? one : many}`;
}
