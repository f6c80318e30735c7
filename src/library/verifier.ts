/**
 * `createVerifier`: the trust store and CRLs loaded once (files, PEM strings or the CA
 * directory), then per request: the mTLS headers decoded exactly as `decode-header` decodes
 * them and the chain judged exactly as `verify` judges it (both through ./seam.ts), with the
 * result in `verify --json`'s shape plus the leaf's identity.
 *
 * Files are watched and reloaded as `serve` reloads them (io/net/trust-material.ts): parsed
 * completely first, swapped in one synchronous step, the old material kept when a file is bad.
 */
import {readFile} from 'node:fs/promises';
import {join} from 'node:path';
import {certTime, formatSubjectAltNames} from '../lib/alb/describe.js';
import {ALB_HEADERS, CLIENT_CERT_SUB_HEADER, type HeaderWarning, headerName} from '../lib/alb/headers.js';
import type {VerifyCheck} from '../lib/alb/verify.js';
import {formatRfc2253} from '../lib/x509/dn.js';
import {formatFingerprint, sha256Digest} from '../lib/x509/fingerprint.js';
import {currentCrlPaths} from '../io/ca/directory.js';
import {TrustMaterial} from '../io/net/trust-material.js';
import {BoundedCache} from './cache.js';
import {
  crlFrom,
  type DecodedHeaderSet,
  decodeRequestHeaders,
  eventHeaderSets,
  type HeaderField,
  type HeaderMap,
  judgeChain,
  type LoadedCrl,
  type ParsedCertificate,
  type Product,
  type TrustStore,
  trustStoreFrom,
} from './seam.js';

export type {HeaderField, HeaderMap, Product};

/**
 * Codes the library adds to `verify`'s (ALB's connection-log codes): what only a backend
 * reading headers can see. One constant, documented in docs/library.md.
 */
export const LIBRARY_CODES = {
  /** No mTLS header at all, or none with a certificate: the client presented none (passthrough), or the request did not come through the load balancer. */
  NoClientCert: 'no client certificate in the request headers',
  /** MISMATCH, DUPLICATE_HEADER or MIXED_MODES from the decoder, or headers of another product than the verifier's: edited or spoofed headers. */
  HeaderMismatch: 'the mTLS headers do not describe one certificate from the expected load balancer: edited or spoofed?',
} as const;
export type LibraryCode = keyof typeof LIBRARY_CODES;

/** verify's codes (ALB's) and the library's. */
export type MtlsCode = NonNullable<ReturnType<typeof judgeChain>['code']> | LibraryCode;

/** The leaf's identity, as the application uses it. */
export interface MtlsIdentity {
  /** RFC 2253 (OpenSSL -nameopt RFC2253), as ALB's X-Amzn-Mtls-Clientcert-Subject. */
  subject: string;
  issuer: string;
  /** Uppercase hex, as ALB's X-Amzn-Mtls-Clientcert-Serial-Number. */
  serial: string;
  /** `DNS:...`, `URI:...`, `IP Address:...`, `email:...` as inspect prints them. */
  subjectAltNames: string[];
  notBefore: string;
  notAfter: string;
  /** SHA-256 of the DER, uppercase colon hex (openssl x509 -fingerprint -sha256). */
  sha256Fingerprint: string;
  /** SHA-256 of the DER, base64url: RFC 8705's `x5t#S256` confirmation value. */
  x5tS256: string;
}

/** One request's verdict: `verify --json`'s fields (status, code, checks, path, at, ignoreExpiry) plus identity, why and the header warnings. */
export interface MtlsVerdict {
  status: 'Success' | `Failed:${MtlsCode}`;
  code: MtlsCode | null;
  product: Product;
  /** The presented leaf, also when refused (null without a certificate). */
  identity: MtlsIdentity | null;
  /** The first failing check's detail (null on Success). */
  why: string | null;
  /** How to fix it, when known. */
  fix: string | null;
  checks: VerifyCheck[];
  /** The path that was built, leaf first. */
  path: Array<{subject: string; serial: string}>;
  /** decode-header's warnings for this request (FORM_DECODED, MISMATCH, ...). */
  warnings: HeaderWarning[];
  at: string;
  ignoreExpiry: boolean;
}

/** PEM text (starts with `-----BEGIN`), DER / PEM bytes, or a file path. */
export type MaterialSource = string | Uint8Array;

export interface CreateVerifierOptions {
  /** Which load balancer's headers arrive: ALB verify mode (`alb`), ALB passthrough (`alb-passthrough`) or API Gateway events (`apigw`). */
  product: Product;
  /** The CA bundle: a file path, PEM text or bytes. Default with caDir: `<caDir>/ca-bundle.pem`. */
  trustStore?: MaterialSource;
  /** CRLs: file paths, PEM text or bytes. Default with caDir: its current CRLs (as `verify` and `deploy` use them). */
  crls?: MaterialSource[];
  /** A CA directory made by `mtls-kit gen-ca`. */
  caDir?: string;
  /** Renamed headers (ALB header modification): `{leaf: 'X-Client-Leaf'}`. */
  headerMap?: HeaderMap;
  /** The listener option IgnoreClientCertificateExpiry. */
  ignoreExpiry?: boolean;
  /** Reload files when they change (default true; only when every source is a file). */
  watch?: boolean;
  /** Per-leaf verdict cache size (default 10,000 entries; 0 turns it off). */
  cacheSize?: number;
  /** The clock (tests pin it). */
  now?: () => Date;
  /** Told of each reload, of each bad file that kept the old material, and of a trust-store certificate that is not a CA. */
  onReload?: (message: string) => void;
}

export interface Verifier {
  readonly product: Product;
  /** Judges one request's headers: Node's `rawHeaders`, a header object, Fetch `Headers`, or name/value fields. Never throws for bad header values. */
  verifyHeaders(headers: HeaderSource): MtlsVerdict;
  /** Judges a Lambda event: an ALB target event (`headers` / `multiValueHeaders`) or an API Gateway REST / HTTP API event (`clientCert`). */
  verifyEvent(event: unknown): MtlsVerdict;
  /** Reads the files again now (as SIGHUP does for serve). */
  reload(): Promise<void>;
  /** Stops watching files. */
  close(): void;
  readonly stats: {cacheHits: number; cacheMisses: number; reloads: number};
}

/** Node's rawHeaders (flat name, value list), an object of headers, Fetch Headers, or fields. */
export type HeaderSource =
  | readonly string[]
  | readonly HeaderField[]
  | {readonly [name: string]: string | readonly string[] | undefined}
  | {forEach(cb: (value: string, name: string) => void): void};

const isoSeconds = (d: Date): string => d.toISOString().replace(/\.\d{3}Z$/, 'Z');

let lastSecond = Number.NaN;
let lastSecondText = '';
/** isoSeconds of a time in ms, memoized for the current second (toISOString costs as much as a cache hit). */
function secondText(ms: number): string {
  const s = Math.floor(ms / 1000);
  if (s !== lastSecond) {
    lastSecond = s;
    lastSecondText = isoSeconds(new Date(s * 1000));
  }
  return lastSecondText;
}

/** Freezes a verdict and everything in it: a cached verdict is shared by every request that hits it. */
function deepFreeze<T>(o: T): T {
  if (typeof o === 'object' && o !== null && !Object.isFrozen(o)) {
    Object.freeze(o);
    for (const v of Object.values(o)) deepFreeze(v);
  }
  return o;
}

function isPemText(s: MaterialSource): s is string {
  return typeof s === 'string' && s.trimStart().startsWith('-----BEGIN');
}

const bytesOf = async (s: MaterialSource): Promise<Uint8Array> =>
  typeof s === 'string' ? (isPemText(s) ? new Uint8Array(Buffer.from(s, 'utf8')) : new Uint8Array(await readFile(s))) : s;

const sourceName = (s: MaterialSource, what: string): string => (typeof s === 'string' && !isPemText(s) ? s : what);

/** The material a request is judged with; `generation` changes on every swap. */
interface Material {
  store: TrustStore;
  crls: LoadedCrl[];
  generation(): number;
  reload(): Promise<void>;
  close(): void;
}

async function loadMaterial(o: CreateVerifierOptions): Promise<Material> {
  const bundle = o.trustStore ?? (o.caDir ? join(o.caDir, 'ca-bundle.pem') : undefined);
  if (bundle === undefined) throw new TypeError('createVerifier: give trustStore (a CA bundle file, PEM text or bytes) or caDir (a CA directory)');
  const crls = o.crls ?? (o.caDir && o.trustStore === undefined ? await currentCrlPaths(o.caDir) : []);
  const allFiles = [bundle, ...crls].every((s) => typeof s === 'string' && !isPemText(s));
  if (allFiles) {
    const m = await TrustMaterial.load({bundlePath: bundle as string, crlPaths: crls as string[], ...(o.onReload ? {onReload: o.onReload} : {})});
    if (o.watch !== false) m.watch();
    return {
      store: m.store,
      crls: m.crls,
      generation: () => m.reloads,
      reload: () => m.reload('reload() called', true),
      close: () => m.close(),
    };
  }
  // PEM text or bytes: nothing to watch.
  const {store, warnings} = trustStoreFrom(await bytesOf(bundle), sourceName(bundle, 'the trustStore PEM'));
  for (const w of warnings) o.onReload?.(w);
  const loaded: LoadedCrl[] = [];
  for (const [i, c] of crls.entries()) loaded.push(crlFrom(await bytesOf(c), sourceName(c, `crls[${i}]`)));
  return {store, crls: loaded, generation: () => 0, reload: async () => undefined, close: () => undefined};
}

/** Lower-cased names of every header the decoder may recognise for this map (others cannot change its result). */
function relevantNames(map: HeaderMap | undefined): Set<string> {
  const names = new Set<string>();
  for (const k of Object.keys(ALB_HEADERS) as Array<keyof typeof ALB_HEADERS>) names.add(headerName(k, map).toLowerCase());
  names.add(CLIENT_CERT_SUB_HEADER.toLowerCase());
  return names;
}

/** Whether the decoder may recognise a header name (memoized per name set: the same few names come with every request). */
function wanted(memo: Map<string, boolean>, names: Set<string>, name: string): boolean {
  let w = memo.get(name);
  if (w === undefined) {
    const l = name.toLowerCase();
    // A field name with "clientcert." is an API Gateway clientCert path (lib/alb/headers.ts roleIn).
    w = names.has(l) || l.includes('clientcert.');
    // A client sending many new names only stops the memo from growing.
    if (memo.size < 4096) memo.set(name, w);
  }
  return w;
}

/** The fields of a header source the decoder can recognise, names as written, in order. */
export function mtlsFields(h: HeaderSource, names: Set<string>): HeaderField[] {
  let memo = wantedMemo.get(names);
  if (!memo) {
    memo = new Map();
    wantedMemo.set(names, memo);
  }
  const out: HeaderField[] = [];
  if (Array.isArray(h)) {
    if (h.length > 0 && typeof h[0] === 'object') {
      for (const f of h as HeaderField[]) if (wanted(memo, names, f.name)) out.push({name: f.name, value: f.value});
    } else {
      const raw = h as string[];
      for (let i = 0; i + 1 < raw.length; i += 2) if (wanted(memo, names, raw[i]!)) out.push({name: raw[i]!, value: raw[i + 1]!});
    }
    return out;
  }
  if (typeof (h as {forEach?: unknown}).forEach === 'function') {
    const m = memo;
    (h as {forEach(cb: (v: string, n: string) => void): void}).forEach((value, name) => {
      if (wanted(m, names, name)) out.push({name, value});
    });
    return out;
  }
  for (const [name, v] of Object.entries(h as Record<string, string | string[] | undefined>)) {
    if (v === undefined || !wanted(memo, names, name)) continue;
    if (typeof v === 'string') out.push({name, value: v});
    else for (const x of v) out.push({name, value: x});
  }
  return out;
}

/** Header name as written → whether the decoder may recognise it, per name set. */
const wantedMemo = new WeakMap<Set<string>, Map<string, boolean>>();

const SPOOF_WARNINGS = new Set(['MISMATCH', 'DUPLICATE_HEADER', 'MIXED_MODES']);
const PRODUCT_MODE: Record<Product, DecodedHeaderSet['mode']> = {alb: 'verify', 'alb-passthrough': 'passthrough', apigw: 'apigw'};

/**
 * The leaf's identity: describeCertificate's fields of it (not the whole description, which
 * also judges the certificate against ALB's rules). The two fingerprints are plain enumerable
 * properties to every reader (JSON.stringify, spread, `in`), computed from one SHA-256 of the
 * DER when first read: most applications read the subject only.
 */
function identityOf(leaf: ParsedCertificate): MtlsIdentity {
  let digest: Buffer | undefined;
  const sha256 = (): Buffer => {
    digest ??= sha256Digest(leaf.der);
    return digest;
  };
  return {
    subject: formatRfc2253(leaf.subject),
    // Every leaf of a CA names the same issuer: formatRfc2253 remembers recent names.
    issuer: formatRfc2253(leaf.issuer),
    serial: leaf.serialHex,
    subjectAltNames: formatSubjectAltNames(leaf),
    notBefore: certTime(leaf.notBefore),
    notAfter: certTime(leaf.notAfter),
    get sha256Fingerprint(): string {
      return formatFingerprint(sha256());
    },
    get x5tS256(): string {
      return sha256().toString('base64url');
    },
  };
}

/** Subjects of the CAs on paths (the same few on every request), formatted once per certificate. */
const caSubjects = new WeakMap<ParsedCertificate, string>();

/** A path entry's subject as describeCertificate prints it: the leaf's from its identity, the others formatted once. */
function pathSubject(c: ParsedCertificate, leaf: ParsedCertificate, identity: MtlsIdentity): string {
  if (c === leaf) return identity.subject;
  let s = caSubjects.get(c);
  if (s === undefined) {
    s = formatRfc2253(c.subject);
    caSubjects.set(c, s);
  }
  return s;
}

function refusal(
  product: Product,
  code: MtlsCode,
  why: string,
  at: Date,
  ignoreExpiry: boolean,
  warnings: HeaderWarning[] = [],
  rest?: Partial<MtlsVerdict>,
): MtlsVerdict {
  return {
    status: `Failed:${code}`,
    code,
    product,
    identity: null,
    why,
    fix: null,
    checks: [],
    path: [],
    warnings,
    at: isoSeconds(at),
    ignoreExpiry,
    ...rest,
  };
}

/** The instants where a verdict on this chain can change: validity of every certificate involved, CRL thisUpdate / nextUpdate. */
function boundaries(certs: Iterable<ParsedCertificate>, crls: LoadedCrl[]): number[] {
  const t: number[] = [];
  for (const c of certs) t.push(c.notBefore.getTime(), c.notAfter.getTime());
  for (const c of crls) {
    t.push(c.thisUpdate.getTime());
    if (c.nextUpdate) t.push(c.nextUpdate.getTime());
  }
  return t;
}

interface CacheEntry {
  /** Frozen; replaced by a copy with the new `at` when the second changes. */
  verdict: MtlsVerdict;
  /** The header name when the key is a single field's value ('' when the key holds every name). */
  name: string;
  generation: number;
  /** The verdict holds for from <= at < until. */
  from: number;
  until: number;
}

/**
 * Loads the trust material once and returns a verifier for one product.
 * @throws MtlsKitError naming the file that cannot be read or parsed; TypeError without trustStore or caDir.
 */
export async function createVerifier(o: CreateVerifierOptions): Promise<Verifier> {
  if (!(o.product in PRODUCT_MODE)) throw new TypeError(`createVerifier: product "${String(o.product)}" is not alb, alb-passthrough or apigw`);
  const material = await loadMaterial(o);
  const product = o.product;
  const map = o.headerMap;
  const names = relevantNames(map);
  const ignoreExpiry = o.ignoreExpiry ?? false;
  const now = o.now ?? (() => new Date());
  const cacheSize = o.cacheSize ?? 10_000;
  const cache = cacheSize > 0 ? new BoundedCache<string, CacheEntry>(cacheSize) : undefined;
  let seenGeneration = 0;
  const stats = {
    cacheHits: 0,
    cacheMisses: 0,
    get reloads(): number {
      return material.generation();
    },
  };
  // Validity boundaries of the trust store and CRLs, per generation.
  let storeTimes: {generation: number; times: number[]} | undefined;
  const materialTimes = (g: number): number[] => {
    if (storeTimes?.generation !== g) storeTimes = {generation: g, times: boundaries(material.store.certs, material.crls)};
    return storeTimes.times;
  };

  const judgeSet = (set: DecodedHeaderSet | undefined, at: Date): MtlsVerdict => {
    if (!set || set.certificates.length === 0) {
      const malformed = set?.warnings.find((w) => w.code === 'MALFORMED_HEADER');
      if (malformed)
        return refusal(product, 'ClientCertInvalid', malformed.message, at, ignoreExpiry, set!.warnings, {
          fix: 'present a well-formed X.509 certificate, leaf first',
        });
      return refusal(product, 'NoClientCert', LIBRARY_CODES.NoClientCert, at, ignoreExpiry, set?.warnings ?? [], {
        fix: 'connect with a client certificate, through the load balancer',
      });
    }
    const chain = set.certificates.map((c) => c.certificate);
    const r = judgeChain({product, chain, trustStore: material.store, crls: material.crls, at, ignoreExpiry});
    const failed = r.checks.find((c) => !c.ok && c.code);
    const identity = identityOf(chain[0]!);
    const verdict: MtlsVerdict = {
      status: r.status,
      code: r.code,
      product,
      identity,
      why: failed?.detail ?? null,
      fix: failed?.fix ?? null,
      checks: r.checks,
      path: r.path.map((c) => ({subject: pathSubject(c, chain[0]!, identity), serial: c.serialHex})),
      warnings: set.warnings,
      at: secondText(at.getTime()),
      ignoreExpiry,
    };
    // A certificate header that does not decode: verify calls that ClientCertInvalid.
    const malformed = set.warnings.find((w) => w.code === 'MALFORMED_HEADER');
    const spoof = set.warnings.find((w) => SPOOF_WARNINGS.has(w.code));
    if (malformed && set.headers.some((h) => h.name === malformed.header && (h.role === 'leaf' || h.role === 'chain' || h.role === 'apigwPem'))) {
      verdict.status = 'Failed:ClientCertInvalid';
      verdict.code = 'ClientCertInvalid';
      verdict.why = malformed.message;
      verdict.fix = 'present a well-formed X.509 certificate, leaf first';
    } else if (spoof || set.mode !== PRODUCT_MODE[product]) {
      verdict.status = 'Failed:HeaderMismatch';
      verdict.code = 'HeaderMismatch';
      verdict.why = spoof?.message ?? `the request carries ${set.mode} headers, but this verifier reads ${product}'s (${PRODUCT_MODE[product]}) headers`;
      verdict.fix = 'strip client-sent X-Amzn-Mtls-* headers in front of the application, and create the verifier for the product that sends them';
    }
    return verdict;
  };

  const verifyFields = (fields: HeaderField[]): MtlsVerdict => {
    const at = now();
    const t = at.getTime();
    const generation = material.generation();
    if (generation !== seenGeneration) {
      seenGeneration = generation;
      cache?.clear();
    }
    let key: string | undefined;
    let names1 = '';
    if (cache) {
      // The exact header names and values (the DER is inside them): equal keys decode to equal
      // sets. One field (passthrough, API Gateway): its value is the key and the entry keeps the
      // name, which saves copying the value into a new string per request.
      names1 = fields.length === 1 ? fields[0]!.name : '';
      if (names1) key = fields[0]!.value;
      else {
        key = '';
        for (const f of fields) key += `${f.name}\u0000${f.value}\u0000`;
      }
      const e = cache.get(key);
      if (e && e.name === names1 && e.generation === generation && e.from <= t && t < e.until) {
        stats.cacheHits++;
        // Within the same second the stored (frozen) verdict is returned as it is: no allocation.
        const atText = secondText(t);
        if (e.verdict.at !== atText) e.verdict = Object.freeze({...e.verdict, at: atText});
        return e.verdict;
      }
      stats.cacheMisses++;
    }
    const set = fields.length ? decodeRequestHeaders(fields, map) : undefined;
    const verdict = judgeSet(set, at);
    // A verdict whose text names the time of the check (expired, not yet valid: verify's
    // "checked at" in lib/alb/verify.ts) is not reused, so a hit is always equal to a fresh verdict.
    const checkedAt = `(checked at ${at.toISOString().replace('.000Z', 'Z')})`;
    if (cache && key !== undefined && set && !verdict.checks.some((c) => c.detail.includes(checkedAt))) {
      let from = Number.NEGATIVE_INFINITY;
      let until = Number.POSITIVE_INFINITY;
      for (const b of [
        ...materialTimes(generation),
        ...boundaries(
          set.certificates.map((c) => c.certificate),
          [],
        ),
      ]) {
        if (b <= t) from = Math.max(from, b);
        else until = Math.min(until, b);
      }
      deepFreeze(verdict);
      cache.set(key, {verdict, name: names1, generation, from, until});
    }
    return verdict;
  };

  return {
    product,
    verifyHeaders: (headers) => verifyFields(mtlsFields(headers, names)),
    verifyEvent: (event) => {
      const sets = eventHeaderSets(event, map);
      return verifyFields(sets[0] ? mtlsFields(sets[0], names) : []);
    },
    reload: () => material.reload(),
    close: () => material.close(),
    stats,
  };
}
