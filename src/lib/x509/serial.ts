/**
 * Certificate serial numbers: the one place that formats and parses them.
 *
 * ALB form (aws-reference 1.4): uppercase hex, whole bytes, no `00` sign byte, no
 * separators, e.g. `03A5B1`, `FEF257372D5C14D4`. Equal to `openssl x509 -serial`.
 */
import {randomBytes} from 'node:crypto';
import {usageError} from '../errors.js';

/**
 * Formats the content octets of a DER INTEGER as ALB does. A leading 0x00 sign byte
 * is dropped; a value of zero is `00`. Negative serials (UNCONFIRMED in aws-reference 7.4)
 * are printed as OpenSSL does, with a leading `-` and the magnitude.
 */
export function formatSerialHex(integerContent: Uint8Array): string {
  if (integerContent.length === 0) return '00';
  if (integerContent[0]! & 0x80) {
    // Two's complement negative: OpenSSL prints "-" + magnitude.
    let v = 0n;
    for (const b of integerContent) v = (v << 8n) | BigInt(b);
    v -= 1n << BigInt(integerContent.length * 8);
    let hex = (-v).toString(16).toUpperCase();
    if (hex.length % 2) hex = '0' + hex;
    return '-' + hex;
  }
  let i = 0;
  while (i < integerContent.length - 1 && integerContent[i] === 0) i++;
  return Buffer.from(integerContent.subarray(i)).toString('hex').toUpperCase();
}

/**
 * CloudFront's form (aws-reference 11.6): the ALB form's whole bytes in lower case,
 * separated by colons (`4a:3f:5c:92:d1:e8:7b:6c`); a negative serial keeps the leading
 * `-` before the magnitude (UNCONFIRMED, as for ALB in 7.4).
 */
export function formatSerialColonHex(integerContent: Uint8Array): string {
  const hex = formatSerialHex(integerContent).toLowerCase();
  const neg = hex.startsWith('-');
  const pairs = (neg ? hex.slice(1) : hex).match(/../g) ?? [];
  return (neg ? '-' : '') + pairs.join(':');
}

/**
 * CloudFront's connection-log form (aws-reference 11.7): every content octet of the DER
 * INTEGER in lower-case colon hex, the `00` sign byte kept, as AWS's example
 * `00:b1:43:ed:93:d2:d8:f3:9d` shows (b1 has its high bit set, so DER needs the 00).
 */
export function formatSerialColonHexDer(integerContent: Uint8Array): string {
  return (Buffer.from(integerContent).toString('hex').match(/../g) ?? ['00']).join(':');
}

/** Whether the DER INTEGER content is negative (ALB cannot revoke these, aws-reference 4.3). */
export function isNegativeSerial(integerContent: Uint8Array): boolean {
  return integerContent.length > 0 && (integerContent[0]! & 0x80) !== 0;
}

/**
 * A fresh serial: 16 random bytes, positive, with a non-zero first byte so the DER
 * INTEGER is exactly 16 bytes (issue 2). Returns the ALB hex form.
 */
export function newSerialHex(exclude?: ReadonlySet<string>): string {
  for (;;) {
    const b = randomBytes(16);
    b[0] = (b[0]! & 0x7f) | 0x01;
    const hex = b.toString('hex').toUpperCase();
    if (!exclude?.has(hex)) return hex;
  }
}

/**
 * Parses a serial given by a user in any of the forms people copy around:
 * ALB's uppercase hex (`03A5B1`), openssl's colon hex (`03:a5:b1`), `0x` hex, or
 * decimal with `--decimal`-style prefix `dec:` / digits-only when `decimalHint` is set.
 * Returns the ALB form.
 * @throws MtlsKitError BAD_SERIAL (exit 2) naming the value.
 */
export function parseSerial(input: string, options: {decimal?: boolean} = {}): string {
  const s = input.trim();
  let hex: string | undefined;
  if (/^dec:\d+$/i.test(s) || (options.decimal && /^\d+$/.test(s))) {
    hex = BigInt(s.replace(/^dec:/i, '')).toString(16);
  } else if (/^0x[0-9a-f]+$/i.test(s)) {
    hex = s.slice(2);
  } else if (/^[0-9a-f]{1,2}(:[0-9a-f]{1,2})+$/i.test(s)) {
    hex = s
      .split(':')
      .map((p) => p.padStart(2, '0'))
      .join('');
  } else if (/^[0-9a-f]+$/i.test(s)) {
    hex = s;
  }
  if (hex === undefined) {
    throw usageError('BAD_SERIAL', `"${input}" is not a serial number`, [
      'give it as hex (03A5B1 as ALB prints it, or 03:a5:b1 as openssl prints it) or as decimal with a dec: prefix (dec:238001)',
    ]);
  }
  if (hex.length % 2) hex = '0' + hex;
  const bytes = Buffer.from(hex, 'hex');
  return formatSerialHex(bytes[0]! & 0x80 ? Buffer.concat([Buffer.of(0), bytes]) : bytes);
}

/** DER INTEGER content octets (with a sign byte when needed) for an ALB-form hex serial. */
export function serialToIntegerContent(hex: string): Uint8Array {
  const bytes = Buffer.from(hex.length % 2 ? '0' + hex : hex, 'hex');
  return bytes[0]! & 0x80 ? Buffer.concat([Buffer.of(0), bytes]) : bytes;
}
