/**
 * PEM reading and writing (RFC 7468), strict enough to name what is wrong with a file.
 */
import {DerError, readTlv} from './der.js';
import {MtlsKitError} from '../errors.js';
import {INPUT_LIMITS, inputLimitError} from '../limits.js';

export interface PemBlock {
  label: string;
  der: Uint8Array;
  /** 1-based line of the BEGIN line. */
  line: number;
}

const BEGIN = /^-----BEGIN ([A-Z0-9 #]+)-----\s*$/;
const END = /^-----END ([A-Z0-9 #]+)-----\s*$/;

function badPem(source: string, message: string): MtlsKitError {
  return new MtlsKitError({
    code: 'BAD_PEM',
    message: `${source}: ${message}`,
    suggestions: ['check that the file is a complete PEM (-----BEGIN ...----- / -----END ...-----) or DER file and was not truncated'],
  });
}

/**
 * Parses every PEM block in `text`. Text outside blocks is ignored here (lint checks it).
 * @param source the file name, used in error messages
 * @throws MtlsKitError BAD_PEM for a BEGIN without END, mismatched labels, bad base64,
 *   or a body that is not one complete DER element.
 */
export function parsePem(text: string, source: string): PemBlock[] {
  const lines = text.split(/\r?\n/);
  const blocks: PemBlock[] = [];
  let i = 0;
  while (i < lines.length) {
    const m = BEGIN.exec(lines[i]!.trim());
    if (!m) {
      if (END.test(lines[i]!.trim())) throw badPem(source, `line ${i + 1}: END line without a BEGIN line`);
      i++;
      continue;
    }
    const label = m[1]!;
    if (blocks.length >= INPUT_LIMITS.pemBlocks)
      throw inputLimitError(source, 'pemBlocks', `more than ${INPUT_LIMITS.pemBlocks.toLocaleString('en-US')} PEM blocks`);
    const startLine = i + 1;
    const body: string[] = [];
    i++;
    let closed = false;
    while (i < lines.length) {
      const l = lines[i]!.trim();
      const e = END.exec(l);
      if (e) {
        if (e[1] !== label) throw badPem(source, `line ${i + 1}: "-----END ${e[1]}-----" does not close "-----BEGIN ${label}-----" from line ${startLine}`);
        closed = true;
        break;
      }
      if (BEGIN.test(l)) throw badPem(source, `line ${i + 1}: a new BEGIN line inside the ${label} block from line ${startLine}`);
      if (l.includes(':') && body.length === 0) {
        // RFC 1421 headers (Proc-Type / DEK-Info) of legacy encrypted keys.
        i++;
        continue;
      }
      if (l !== '') body.push(l);
      i++;
    }
    if (!closed) throw badPem(source, `the ${label} block from line ${startLine} has no END line (truncated?)`);
    const b64 = body.join('');
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(b64) || b64.length % 4 !== 0) {
      throw badPem(source, `the ${label} block from line ${startLine} is not valid base64`);
    }
    const der = new Uint8Array(Buffer.from(b64, 'base64'));
    if (der.length === 0) throw badPem(source, `the ${label} block from line ${startLine} is empty`);
    try {
      const t = readTlv(der, 0);
      if (t.end !== der.length) throw new DerError(`${der.length - t.end} bytes after the DER element`);
    } catch (error) {
      throw badPem(source, `the ${label} block from line ${startLine} is not valid DER (${(error as Error).message})`);
    }
    blocks.push({label, der, line: startLine});
    i++;
  }
  return blocks;
}

/** True when the bytes look like PEM text rather than DER. */
export function looksLikePem(data: Uint8Array): boolean {
  const head = Buffer.from(data.subarray(0, Math.min(data.length, 4096))).toString('latin1');
  return head.includes('-----BEGIN ');
}

/** Encodes DER as PEM with 64-character lines and a trailing newline. */
export function toPem(der: Uint8Array, label: string): string {
  const b64 = Buffer.from(der.buffer, der.byteOffset, der.byteLength).toString('base64');
  let body = '';
  for (let i = 0; i < b64.length; i += 64) body += b64.slice(i, i + 64) + '\n';
  return `-----BEGIN ${label}-----\n${body}-----END ${label}-----\n`;
}
