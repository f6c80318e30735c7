/**
 * `list` output: the table (one row per certificate, columns padded to the widest value)
 * and the --json document, written as bytes from one buffer sized for the whole output.
 *
 * Most rows are copied from the index's bytes (lib/pki/inventory.ts marks the fields that
 * are plain printable ASCII, and the subjects whose RFC 2253 form is their RDNs reversed);
 * the cells that repeat (status, tier, expiry with days) are made once. Bytes pass the
 * terminal guard (output.ts) as they are, so a row with anything else is built as text, as
 * before, and escaped here exactly as the guard would (escapeTerminalText); the JSON of such a
 * value is JSON.stringify's. The output is byte for byte what JSON.stringify(result, null, 2)
 * and the text table of the same rows give (test/list-index.test.ts).
 */
import {
  COLS,
  copyPlainSubject,
  decodeRange,
  type Inventory,
  type IndexListing,
  PLAIN,
  plainBytes,
  reasonRange,
  STATUSES,
  serialText,
  subjectText,
} from '../lib/pki/inventory.js';
import {escapeTerminalText} from './escape.js';
import {out} from './output.js';

const HEAD = ['STATUS', 'EXPIRES', 'DAYS', 'SERIAL', 'TIER', 'SUBJECT'];

/**
 * Bytes collected in chunks (of `size` bytes, or one row when longer) and handed to `write`
 * (never reused after). The writers size the first chunk for the whole output, so it is one
 * write, and the row loop never takes the (rarely run, so not optimised) path that flushes.
 */
class ByteSink {
  buf: Buffer;
  pos = 0;
  constructor(
    private readonly write: (chunk: Uint8Array) => void,
    private readonly size: number,
  ) {
    this.buf = Buffer.allocUnsafe(size);
  }

  /** Room for n more bytes. */
  room(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    this.flush();
    this.buf = Buffer.allocUnsafe(Math.max(this.size, n));
  }

  text(s: string): void {
    this.room(Buffer.byteLength(s));
    this.pos += this.buf.write(s, this.pos);
  }

  /** A cell made once (TypedArray set: native, unlike a loop, for the cells that repeat). */
  bytes(b: Uint8Array): void {
    this.room(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }

  flush(): void {
    if (this.pos > 0) this.write(this.buf.subarray(0, this.pos));
    this.buf = Buffer.alloc(0);
    this.pos = 0;
  }
}

/** Copies src[a, b) into dst at d; returns the new end. */
function copy(dst: Buffer, d: number, src: Uint8Array, a: number, b: number): number {
  for (let i = a; i < b; i++) dst[d++] = src[i]!;
  return d;
}

/** Copies the serial src[a, b), upper case when `lower` (it holds a-f), into dst at d. */
function copySerial(dst: Buffer, d: number, src: Uint8Array, a: number, b: number, lower: boolean): number {
  if (!lower) return copy(dst, d, src, a, b);
  for (let i = a; i < b; i++) {
    const c = src[i]!;
    dst[d++] = c >= 0x61 && c <= 0x7a ? c - 0x20 : c;
  }
  return d;
}

/**
 * Widens w (the table's column widths) to the expiry, days and serial of every row; returns the
 * serials of rows that are not plain, made as text (kept for writing them). A function of its
 * own, so V8 optimises the row loop after it separately.
 */
function columnWidths(inv: Inventory, w: number[]): {serials: Map<number, string>; subjectBytes: number} {
  const serials = new Map<number, string>();
  let subjectBytes = 0;
  const dayWidths = inv.listings.map((l) => l.times.map((t) => String(t.days).length));
  for (let k = 0; k < inv.count; k++) {
    const li = inv.from[k]!;
    const l = inv.listings[li]!;
    const o = COLS * inv.line[k]!;
    const exp = l.cols[o + 7]!;
    if (l.times[exp]!.iso.length > w[1]!) w[1] = l.times[exp]!.iso.length;
    if (dayWidths[li]![exp]! > w[2]!) w[2] = dayWidths[li]![exp]!;
    let serial = l.cols[o + 4]! - l.cols[o + 3]! - 1;
    if ((l.flags[inv.line[k]!]! & PLAIN.serial) === 0) {
      const s = serialText(l, o);
      serials.set(k, s);
      serial = s.length;
    }
    if (serial > w[3]!) w[3] = serial;
    subjectBytes += l.cols[o + 6]! - l.cols[o + 5]!;
  }
  return {serials, subjectBytes};
}

/** Writes the table (a header line, one line per row, each ending in a newline) of every row of inv. */
export function writeInventoryTable(inv: Inventory, write: (chunk: Uint8Array) => void, chunkSize?: number): void {
  const colour = out.level > 0;
  const w = HEAD.map((h) => h.length);
  w[0] = Math.max(w[0]!, ...STATUSES.map((s) => s.length));
  w[4] = Math.max(w[4]!, 'intermediate'.length);
  const {serials, subjectBytes} = columnWidths(inv, w);
  const spaces: string[] = [];
  const pad = (n: number): string => (spaces[n] ??= ' '.repeat(n));
  const cell = (v: string, i: number): string => v + pad(w[i]! - v.length + 2);
  const status = STATUSES.map((s) => {
    const padded = cell(s, 0);
    return s === 'revoked' ? out.red(padded) : s === 'expired' ? out.yellow(padded) : s === 'superseded' ? out.dim(padded) : padded;
  });
  const tier = {root: cell('root', 4), intermediate: cell('intermediate', 4)};
  // The cells that repeat, made once each: status, expiry and days per status and distinct time
  // of each listing; the serial's padding and the tier per padding.
  const heads = inv.listings.map((l) => new Array<Buffer | undefined>(STATUSES.length * l.times.length));
  const head = (li: number, st: number, exp: number): Buffer => {
    const l = inv.listings[li]!;
    const t = l.times[exp]!;
    heads[li]![st * l.times.length + exp] ??= Buffer.from(status[st]! + cell(t.iso, 1) + cell(String(t.days), 2));
    return heads[li]![st * l.times.length + exp]!;
  };
  const tails = inv.listings.map(() => [] as (Buffer | undefined)[]);
  const tail = (li: number, n: number): Buffer => (tails[li]![n] ??= Buffer.from(pad(n) + tier[inv.listings[li]!.tier]));
  // Plain rows: at most the widest cells (a status with its colour codes), the subject, a newline.
  const rowBytes = Math.max(...status.map((x) => Buffer.byteLength(x))) + w[1]! + w[2]! + w[3]! + w[4]! + 8 + 1;
  const sink = new ByteSink(write, chunkSize ?? 1024 + inv.count * rowBytes + subjectBytes);
  sink.text(
    escapeTerminalText(
      `${out.bold(
        HEAD.map((h, i) => h.padEnd(w[i]!))
          .join('  ')
          .trimEnd(),
      )}\n`,
      colour,
    ),
  );
  const serialWidth = w[3]! + 2;
  for (let k = 0; k < inv.count; k++) {
    const li = inv.from[k]!;
    const l: IndexListing = inv.listings[li]!;
    const line = inv.line[k]!;
    const o = COLS * line;
    const c = l.cols;
    const f = l.flags[line]!;
    const st = l.status[line]!;
    if (f & PLAIN.serial) {
      const hb = head(li, st, c[o + 7]!);
      const sa = c[o + 3]! + 1;
      const se = c[o + 4]!;
      const tb = tail(li, serialWidth - (se - sa));
      const ja = c[o + 5]! + 1;
      const je = c[o + 6]!;
      sink.room(hb.length + (se - sa) + tb.length + (je - ja) + 1);
      const buf = sink.buf;
      buf.set(hb, sink.pos);
      let d = copySerial(buf, sink.pos + hb.length, l.bytes, sa, se, (f & PLAIN.serialLower) !== 0);
      buf.set(tb, d);
      d += tb.length;
      d = copyPlainSubject(buf, d, l.bytes, ja, je);
      if (d >= 0) {
        buf[d++] = 0x0a;
        sink.pos = d;
        continue;
      }
    }
    // Anything else, as text escaped as the terminal guard would.
    const exp = l.times[c[o + 7]!]!;
    const row = status[st]! + cell(exp.iso, 1) + cell(String(exp.days), 2) + cell(serials.get(k) ?? serialText(l, o), 3) + tier[l.tier] + subjectText(l, o);
    sink.text(escapeTerminalText(`${row}\n`, colour));
  }
  sink.flush();
}

/** The result fields before `certificates`, in their order. */
export interface ListJsonHead {
  caDir: string;
  now: string;
  total: number;
  count: number;
  filter: {expiringWithin: string | null; revoked: boolean; expired: boolean};
}

/** About how many bytes the JSON of inv's rows takes (300 for the field names and cells, and the line's bytes from its expiry on). */
function jsonRowsBytes(inv: Inventory): number {
  let n = 0;
  for (let k = 0; k < inv.count; k++) {
    const l = inv.listings[inv.from[k]!]!;
    const o = COLS * inv.line[k]!;
    n += 300 + l.cols[o + 6]! - l.cols[o + 1]!;
  }
  return n;
}

/** Writes `{...head, certificates}` exactly as JSON.stringify(value, null, 2) and a newline would. */
export function writeInventoryJson(head: ListJsonHead, inv: Inventory, write: (chunk: Uint8Array) => void, chunkSize?: number): void {
  const frame = JSON.stringify({...head, certificates: []}, null, 2);
  const sink = new ByteSink(write, chunkSize ?? frame.length + jsonRowsBytes(inv));
  if (inv.count === 0) {
    sink.text(`${frame}\n`);
    sink.flush();
    return;
  }
  sink.text(`${frame.slice(0, -'[]\n}'.length)}[\n`);
  const field = (name: string): string => `,\n      "${name}": `;
  // The repeating pieces: per listing and status, the row's start up to the serial; per distinct
  // time, the expiry and days up to the file, and the revocation time.
  const starts = inv.listings.map((l) =>
    STATUSES.map((s) => Buffer.from(`    {\n      "tier": ${JSON.stringify(l.tier)},\n      "status": ${JSON.stringify(s)},\n      "serial": `)),
  );
  const expiries = inv.listings.map((l) =>
    l.times.map((t) => Buffer.from(`${field('notAfter')}${JSON.stringify(t.iso)}${field('daysLeft')}${JSON.stringify(t.days)}${field('file')}`)),
  );
  const revoked = inv.listings.map((l) => l.times.map((t) => Buffer.from(`${field('revokedAt')}${JSON.stringify(t.iso)}`)));
  const subjectField = Buffer.from(field('subject'));
  const reasonField = Buffer.from(field('reason'));
  const rowEnd = Buffer.from('\n    }');
  const between = Buffer.from(',\n');
  // The common row (plain serial, subject and file, not revoked) in one piece of the sink: its
  // start with the serial's opening quote (after ",\n" from the second row on), the subject's
  // field between quotes, the expiry between the subject's closing and the file's opening quote.
  const quotedStarts = [0, 1].map((later) =>
    starts.map((byStatus) => byStatus.map((b) => Buffer.concat([later ? between : Buffer.alloc(0), b, Buffer.from('"')]))),
  );
  const subjectBetween = Buffer.from(`"${field('subject')}"`);
  const quotedExpiries = expiries.map((byTime) => byTime.map((b) => Buffer.concat([Buffer.from('"'), b, Buffer.from('"')])));
  const quotedRowEnd = Buffer.from(`"${'\n    }'}`);
  const quoted = (l: IndexListing, a: number, b: number, plain: boolean): void => {
    if (!plain) {
      sink.text(JSON.stringify(decodeRange(l.bytes, a, b)));
      return;
    }
    sink.room(b - a + 2);
    let d = sink.pos;
    sink.buf[d++] = 0x22;
    d = copy(sink.buf, d, l.bytes, a, b);
    sink.buf[d++] = 0x22;
    sink.pos = d;
  };
  for (let k = 0; k < inv.count; k++) {
    const li = inv.from[k]!;
    const l = inv.listings[li]!;
    const line = inv.line[k]!;
    const o = COLS * line;
    const c = l.cols;
    const f = l.flags[line]!;
    if ((f & (PLAIN.serial | PLAIN.file)) === (PLAIN.serial | PLAIN.file) && c[o + 8]! < 0) {
      const start = quotedStarts[k > 0 ? 1 : 0]![li]![l.status[line]!]!;
      const expiry = quotedExpiries[li]![c[o + 7]!]!;
      const sa = c[o + 3]! + 1;
      const se = c[o + 4]!;
      const fe = c[o + 5]!;
      const je = c[o + 6]!;
      const fa = se + 1;
      const ja = fe + 1;
      sink.room(start.length + (se - sa) + subjectBetween.length + (je - ja) + expiry.length + (fe - fa) + quotedRowEnd.length);
      const buf = sink.buf;
      buf.set(start, sink.pos);
      let d = copySerial(buf, sink.pos + start.length, l.bytes, sa, se, (f & PLAIN.serialLower) !== 0);
      buf.set(subjectBetween, d);
      d = copyPlainSubject(buf, d + subjectBetween.length, l.bytes, ja, je);
      if (d >= 0) {
        buf.set(expiry, d);
        d = copy(buf, d + expiry.length, l.bytes, fa, fe);
        buf.set(quotedRowEnd, d);
        sink.pos = d + quotedRowEnd.length;
        continue;
      }
    }
    if (k > 0) sink.bytes(between);
    sink.bytes(starts[li]![l.status[line]!]!);
    if (f & PLAIN.serial) {
      const a = c[o + 3]! + 1;
      const b = c[o + 4]!;
      sink.room(b - a + 2);
      let d = sink.pos;
      sink.buf[d++] = 0x22;
      d = copySerial(sink.buf, d, l.bytes, a, b, (f & PLAIN.serialLower) !== 0);
      sink.buf[d++] = 0x22;
      sink.pos = d;
    } else sink.text(JSON.stringify(serialText(l, o)));
    sink.bytes(subjectField);
    const a = c[o + 5]! + 1;
    const b = c[o + 6]!;
    sink.room(b - a + 2);
    sink.buf[sink.pos] = 0x22;
    const d = copyPlainSubject(sink.buf, sink.pos + 1, l.bytes, a, b);
    if (d >= 0) {
      sink.buf[d] = 0x22;
      sink.pos = d + 1;
    } else sink.text(JSON.stringify(subjectText(l, o)));
    sink.bytes(expiries[li]![c[o + 7]!]!);
    quoted(l, c[o + 4]! + 1, c[o + 5]!, (f & PLAIN.file) !== 0);
    const rev = c[o + 8]!;
    if (rev >= 0) {
      sink.bytes(revoked[li]![rev]!);
      const reason = reasonRange(l, o);
      if (reason) {
        sink.bytes(reasonField);
        quoted(l, reason[0], reason[1], plainBytes(l.bytes, reason[0], reason[1]));
      }
    }
    sink.bytes(rowEnd);
  }
  sink.text('\n  ]\n}\n');
  sink.flush();
}
