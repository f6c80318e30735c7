/**
 * Counts in messages: `plural(1, 'entry', 'entries')` is "1 entry", `plural(2, 'object')` is
 * "2 objects". One rule for every command, instead of "1 entries" or "2 object(s)".
 */
export function plural(n: number, one: string, many = `${one}s`): string {
  return `${groupThousands(n)} ${n === 1 ? one : many}`;
}

/**
 * `n.toLocaleString('en-US')`: integers are grouped here ("1,000", "-12,345"), without Intl
 * (verify builds "not on crl.pem (500,000 entries)" for every chain it judges, and Intl's
 * number formatter costs a few milliseconds to set up in a short-lived command); anything else
 * (fractions, -0, NaN, Infinity) goes to toLocaleString.
 */
export function groupThousands(n: number): string {
  if (!Number.isSafeInteger(n) || Object.is(n, -0)) return n.toLocaleString('en-US');
  const digits = String(Math.abs(n));
  const head = digits.length % 3 || 3;
  let out = digits.slice(0, head);
  for (let i = head; i < digits.length; i += 3) out += `,${digits.slice(i, i + 3)}`;
  return n < 0 ? `-${out}` : out;
}
