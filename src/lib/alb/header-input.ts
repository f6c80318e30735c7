/**
 * What people paste into `decode-header`, sniffed into header sets (one per request):
 * a bare header value; `Name: value` lines (any case; blank lines separate requests);
 * a raw HTTP request; `curl -v` output (`> ` lines); a HAR file; a JSON object of
 * headers; NDJSON; an ALB Lambda-target event (`headers` / `multiValueHeaders`); an API
 * Gateway REST or HTTP API event (`requestContext.identity|authentication.clientCert`);
 * API Gateway's `clientCert` object itself.
 */
import {MtlsKitError} from '../errors.js';
import {INPUT_LIMITS, inputLimitError} from '../limits.js';
import {ALB_HEADERS, CLIENT_CERT_SUB_HEADER, type HeaderField, headerName, type HeaderMap} from './headers.js';

export type HeaderInputFormat =
  | 'value'
  | 'lines'
  | 'http-request'
  | 'curl'
  | 'har'
  | 'json'
  | 'ndjson'
  | 'alb-event'
  | 'apigw-rest-event'
  | 'apigw-http-event'
  | 'apigw-client-cert';

export interface HeaderInput {
  format: HeaderInputFormat;
  /** One list of headers per request, in input order. */
  sets: HeaderField[][];
  /** For a bare value: the header it was read as. */
  readAs?: string;
}

// RFC 9110 field-name token, then ":".
const HEADER_LINE = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+):[ \t]*(.*)$/;
const REQUEST_LINE = /^[A-Z]+ \S+ HTTP\/\d(?:\.\d)?$/;

/**
 * Header value as written: strips the trailing CR and whitespace (HTTP OWS), but keeps
 * a space that ends an escaped DN (`CN=x\ `, aws-reference 8).
 */
function fieldValue(raw: string): string {
  const last = raw.charCodeAt(raw.length - 1);
  if (last !== 0x20 && last !== 0x09 && last !== 0x0d && last !== 0x0a) return raw;
  const v = raw.trimEnd();
  // Count the backslashes that end the value (from the end: the input may be 100 MB).
  let k = v.length;
  while (k > 0 && v.charCodeAt(k - 1) === 0x5c) k--;
  return (v.length - k) % 2 === 1 && raw[v.length] === ' ' ? v + ' ' : v;
}

function badInput(source: string, message: string, suggestions: string[]): MtlsKitError {
  return new MtlsKitError({code: 'BAD_HEADER_INPUT', message: `${source}: ${message}`, suggestions});
}

/**
 * Sniffs the input format and returns its header sets.
 * @param source the file name or "argument"/"stdin", for messages
 * @throws MtlsKitError BAD_HEADER_INPUT (exit 4) for empty input or JSON that does not parse;
 *   INPUT_LIMIT (exit 4) for a header value over INPUT_LIMITS.headerValueBytes.
 */
export function readHeaderInput(text: string, source: string, map?: HeaderMap): HeaderInput {
  const input = readAnyHeaderInput(text, source, map);
  for (const set of input.sets)
    for (const f of set)
      if (f.value.length > INPUT_LIMITS.headerValueBytes)
        throw inputLimitError(source, 'headerValueBytes', `the ${f.name} value is ${f.value.length.toLocaleString('en-US')} characters`);
  return input;
}

function readAnyHeaderInput(text: string, source: string, map?: HeaderMap): HeaderInput {
  const t = fieldValue(text.replace(/^\uFEFF/, '').trimStart());
  if (t === '') throw badInput(source, 'the input is empty', ['pass a header value, "Name: value" lines, a HAR file or a Lambda event']);
  if (t[0] === '{' || t[0] === '[') return readJson(t, source);
  const curlArgs = readCurlArgs(t);
  if (curlArgs) return {format: 'curl', sets: [curlArgs]};
  const lines = t.split('\n');
  if (lines.some((l) => l.startsWith('> ')))
    return {
      format: 'curl',
      sets: readHttpLines(
        lines.filter((l) => l.startsWith('>')).map((l) => l.slice(2)),
        true,
      ),
    };
  if (REQUEST_LINE.test(lines[0]!.replace(/\r$/, ''))) return {format: 'http-request', sets: readHttpLines(lines, true)};
  if (lines.some((l) => HEADER_LINE.test(l))) return {format: 'lines', sets: readHttpLines(lines, false)};
  return readBareValue(t, map);
}

const CURL_ARG = /(?:^|\s)(?:-H|--header)\s+('(?:[^']|'\\'')*'|"(?:[^"\\]|\\.)*"|\S+)/g;

/** `-H 'Name: value'` arguments (encode-header --format curl, or a pasted curl command). */
function readCurlArgs(t: string): HeaderField[] | undefined {
  if (!/^(?:curl\s+)?(?:-H|--header)\s/.test(t)) return undefined;
  const out: HeaderField[] = [];
  for (const m of t.matchAll(CURL_ARG)) {
    const q = m[1]!;
    const arg = q.startsWith("'") ? q.slice(1, -1).replaceAll("'\\''", "'") : q.startsWith('"') ? q.slice(1, -1).replace(/\\(.)/g, '$1') : q;
    const h = HEADER_LINE.exec(arg);
    if (h) out.push({name: h[1]!, value: fieldValue(h[2]!)});
  }
  return out;
}

/**
 * Header lines, one set per block: a request line, or a blank line after headers,
 * ends a set. With `bodies`, what follows the blank line is a body and is skipped until
 * the next request line; without, the next block is the next request's headers.
 * Lines that are not headers (status lines, curl's `*` notes) are skipped.
 */
function readHttpLines(lines: string[], bodies: boolean): HeaderField[][] {
  const sets: HeaderField[][] = [];
  let cur: HeaderField[] = [];
  let skipping = false;
  for (const line of lines) {
    const l = line.endsWith('\r') ? line.slice(0, -1) : line;
    if (REQUEST_LINE.test(l)) {
      if (cur.length) sets.push(cur);
      cur = [];
      skipping = false;
      continue;
    }
    if (skipping) continue;
    if (l.trim() === '') {
      if (cur.length) {
        sets.push(cur);
        cur = [];
        skipping = bodies;
      }
      continue;
    }
    const m = HEADER_LINE.exec(l);
    if (m) cur.push({name: m[1]!, value: fieldValue(m[2]!)});
    else {
      // A PEM pasted already decoded (real newlines) spills over lines: keep it whole.
      const last = cur[cur.length - 1];
      if (last?.value.includes('-----BEGIN') && !/-----END [A-Z ]+-----\s*$/.test(last.value)) last.value += '\n' + l;
    }
  }
  if (cur.length) sets.push(cur);
  return sets;
}

/** A value with no header name: decided by its shape. */
function readBareValue(v: string, map?: HeaderMap): HeaderInput {
  let name: string;
  const value = /BEGIN(?:%20| )CERTIFICATE/.test(v) ? v : v.replace(/\r?\n/g, '');
  if (/BEGIN(?:%20| )CERTIFICATE/.test(v)) {
    const blocks = v.match(/BEGIN(?:%20| )CERTIFICATE/g)!.length;
    name = headerName(blocks > 1 ? 'chain' : 'leaf', map);
  } else if (/^NotBefore=/i.test(value)) name = headerName('validity', map);
  else if (/^[0-9A-F]+$/.test(value)) name = headerName('serial', map);
  else if (/^(C|DC)=/.test(value) || !value.includes('=') || /^[A-Za-z0-9+/]+={0,2}$/.test(value)) name = CLIENT_CERT_SUB_HEADER;
  else name = headerName('subject', map);
  return {format: 'value', sets: [[{name, value}]], readAs: name};
}

type Json = null | boolean | number | string | Json[] | {[k: string]: Json};
const isObj = (v: Json | undefined): v is {[k: string]: Json} => typeof v === 'object' && v !== null && !Array.isArray(v);

function readJson(t: string, source: string): HeaderInput {
  let parsed: Json;
  try {
    parsed = JSON.parse(t) as Json;
  } catch (error) {
    // NDJSON: one JSON document per line (e.g. a log of Lambda events).
    const docs: Json[] = [];
    for (const line of t.split('\n')) {
      if (line.trim() === '') continue;
      try {
        docs.push(JSON.parse(line) as Json);
      } catch {
        throw badInput(source, `looks like JSON but does not parse (${(error as Error).message})`, [
          'pass valid JSON: a HAR file, a Lambda event, an object of headers, or one JSON document per line',
        ]);
      }
    }
    const out: HeaderInput = {format: 'ndjson', sets: []};
    for (const d of docs) out.sets.push(...readJsonValue(d).sets);
    return out;
  }
  return readJsonValue(parsed);
}

function readJsonValue(v: Json): HeaderInput {
  if (Array.isArray(v)) {
    if (v.every((x) => isObj(x) && typeof x.name === 'string' && 'value' in x)) return {format: 'json', sets: [nameValueList(v)]};
    const out: HeaderInput = {format: 'json', sets: []};
    for (const x of v) {
      const r = readJsonValue(x);
      if (out.sets.length === 0) out.format = r.format;
      out.sets.push(...r.sets);
    }
    return out;
  }
  if (!isObj(v)) return {format: 'json', sets: []};
  const log = v.log;
  if (isObj(log) && Array.isArray(log.entries)) {
    const sets = log.entries.map((e) => (isObj(e) && isObj(e.request) && Array.isArray(e.request.headers) ? nameValueList(e.request.headers) : []));
    return {format: 'har', sets: sets.filter((s) => s.length)};
  }
  const rc = v.requestContext;
  if (isObj(rc)) {
    const headers = plainHeaders(v);
    if (isObj(rc.identity) && isObj(rc.identity.clientCert)) {
      return {format: 'apigw-rest-event', sets: [[...clientCertFields(rc.identity.clientCert, 'requestContext.identity.clientCert'), ...headers]]};
    }
    if (isObj(rc.authentication) && isObj(rc.authentication.clientCert)) {
      return {format: 'apigw-http-event', sets: [[...clientCertFields(rc.authentication.clientCert, 'requestContext.authentication.clientCert'), ...headers]]};
    }
    return {format: isObj(rc.elb) ? 'alb-event' : 'json', sets: [headers]};
  }
  if (isObj(v.clientCert)) return {format: 'apigw-client-cert', sets: [[...clientCertFields(v.clientCert, 'clientCert'), ...plainHeaders(v)]]};
  if (typeof v.clientCertPem === 'string') return {format: 'apigw-client-cert', sets: [clientCertFields(v, 'clientCert')]};
  if ('headers' in v || 'multiValueHeaders' in v) return {format: 'json', sets: [plainHeaders(v)]};
  return {format: 'json', sets: [objectHeaders(v)]};
}

function nameValueList(list: Json[]): HeaderField[] {
  return list.filter(isObj).map((h) => ({name: String(h.name), value: String(h.value ?? '')}));
}

/** `headers` (object or name/value list) and `multiValueHeaders` of an event. */
function plainHeaders(v: {[k: string]: Json}): HeaderField[] {
  const out: HeaderField[] = [];
  // ALB sends one or the other to a Lambda target, never both (multi-value mode on/off).
  if (isObj(v.multiValueHeaders)) out.push(...objectHeaders(v.multiValueHeaders));
  else if (Array.isArray(v.headers)) out.push(...nameValueList(v.headers));
  else if (isObj(v.headers)) out.push(...objectHeaders(v.headers));
  return out;
}

function objectHeaders(o: {[k: string]: Json}): HeaderField[] {
  const out: HeaderField[] = [];
  for (const [name, val] of Object.entries(o)) {
    if (typeof val === 'string') out.push({name, value: val});
    else if (Array.isArray(val)) for (const x of val) if (typeof x === 'string') out.push({name, value: x});
  }
  return out;
}

function clientCertFields(c: {[k: string]: Json}, prefix: string): HeaderField[] {
  const out: HeaderField[] = [];
  for (const k of ['clientCertPem', 'subjectDN', 'issuerDN', 'serialNumber'] as const) {
    const val = c[k];
    if (typeof val === 'string' || typeof val === 'number') out.push({name: `${prefix}.${k}`, value: String(val)});
  }
  const validity = c.validity;
  if (isObj(validity)) {
    for (const k of ['notBefore', 'notAfter'] as const) if (typeof validity[k] === 'string') out.push({name: `${prefix}.validity.${k}`, value: validity[k]});
  }
  return out;
}

/** Every header name decode-header recognises, for "no mTLS header found" messages. */
export function knownHeaderNames(map?: HeaderMap): string[] {
  return [
    ...(Object.keys(ALB_HEADERS) as Array<keyof typeof ALB_HEADERS>).map((k) => headerName(k, map)),
    CLIENT_CERT_SUB_HEADER,
    'requestContext.identity.clientCert',
    'requestContext.authentication.clientCert',
  ];
}
