/**
 * x509-limbo (test/fixtures/limbo) run through mtls-kit's verifier, through AWS's own stack
 * (`awslc_verify`, support/aws-stack.ts: the first oracle) and through the real
 * `openssl verify -partial_chain` (the second), on the same files, case by case.
 * Used by test/limbo.test.ts and bench/limbo.ts.
 *
 * Two comparisons per case:
 * - `sslclient`: ALB's verdict. mtls-kit's judgeChain with ALB's policy, as `verify` and
 *   `serve` call it, against `awslc_verify -mode s2n` (AWS-LC as s2n-tls asks it) and
 *   `openssl verify -partial_chain -purpose sslclient`.
 * - `sslserver` (SERVER cases only): the same chain judged for a TLS server, so that
 *   path validation is compared even when the leaf is serverAuth-only (which the
 *   sslclient purpose rejects before anything else shows): ALB's policy with the serverAuth
 *   purpose checked on every certificate, against `awslc_verify -mode openssl -purpose
 *   sslserver` and `openssl verify -partial_chain -purpose sslserver`.
 * Hostnames are never checked on either side (neither ALB nor `openssl verify` without
 * -verify_hostname does), so every case fits; `expected_result` is not the reference,
 * OpenSSL is.
 */
import {spawn} from 'node:child_process';
import {mkdirSync, readFileSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {gunzipSync} from 'node:zlib';
import {ALB_POLICY, judgeChain, loadCrl, type LoadedCrl, prepareTrustStore, type VerifyChainResult} from '../../src/lib/alb/verify.js';
import {withRules} from '../../src/lib/alb/policy.js';
import {awslcVerdict, awsStackSkip} from './aws-stack.js';
import {readCertificates} from '../../src/lib/x509/read-certs.js';
import '../../src/io/files.js'; // registers OpenSSL's CRL parse gate, as every command has it
import type {ParsedCertificate} from '../../src/lib/x509/cert.js';

export interface LimboCase {
  id: string;
  description: string;
  validation_kind: 'SERVER' | 'CLIENT';
  trusted_certs: string[];
  untrusted_intermediates: string[];
  peer_certificate: string;
  peer_certificate_key: string | null;
  validation_time: string | null;
  crls: string[];
  expected_result: 'SUCCESS' | 'FAILURE';
  features: string[];
}

export type Purpose = 'sslclient' | 'sslserver';

export interface LimboRow {
  id: string;
  purpose: Purpose;
  /** mtls-kit: 'Success' or 'Failed:<code>' (or 'Refused:<why>' when an input file is refused). */
  mtls: string;
  mtlsOk: boolean;
  opensslOk: boolean;
  /** openssl's error line(s) when it rejects. */
  openssl: string;
  /** AWS-LC's line (`OK` / `FAIL: ...`), or null when the AWS stack is absent. */
  aws: string | null;
  awsOk: boolean | null;
  /** mtls-kit agrees with the reference: AWS-LC when present, else OpenSSL. */
  agree: boolean;
}

/** The policy each comparison judges with: ALB's, or (sslserver) serverAuth on every certificate as `-purpose sslserver` does. */
export const SSLSERVER_POLICY = withRules(ALB_POLICY, {id: 'alb-verify-sslserver', purpose: {eku: 'serverAuth', anchor: 'included'}});

export const LIMBO_DIR = join(import.meta.dirname, '..', 'fixtures', 'limbo');

/** The limbo test cases (gunzipped fixture). */
export function loadLimbo(): LimboCase[] {
  const json = JSON.parse(gunzipSync(readFileSync(join(LIMBO_DIR, 'limbo.json.gz'))).toString('utf8')) as {testcases: LimboCase[]};
  return json.testcases;
}

/** Deliberate divergences from AWS-LC: case id (and purpose) → reason. */
export interface Divergence {
  id: string;
  purpose: Purpose;
  mtls: string;
  reason: string;
}

export function loadDivergences(): Divergence[] {
  return JSON.parse(readFileSync(join(LIMBO_DIR, 'divergences.json'), 'utf8')) as Divergence[];
}

/** Where AWS-LC (the reference) and OpenSSL 3 disagree: mtls-kit follows AWS-LC; the reason says why they differ. */
export interface StackDifference {
  id: string;
  purpose: Purpose;
  aws: 'OK' | 'FAIL';
  openssl: 'OK' | 'FAIL';
  reason: string;
}

export function loadStackDifferences(): StackDifference[] {
  return JSON.parse(readFileSync(join(LIMBO_DIR, 'awslc-vs-openssl.json'), 'utf8')) as StackDifference[];
}

/** The time a case is judged at: its validation_time, else `now`. */
export function caseTime(c: LimboCase, now: Date): Date {
  return c.validation_time ? new Date(c.validation_time) : now;
}

export interface CaseFiles {
  dir: string;
  ca: string;
  untrusted?: string;
  leaf: string;
  /** leaf then intermediates, what a client presents. */
  chain: string;
  crl?: string;
  key?: string;
}

const safeName = (id: string): string => id.replace(/[^A-Za-z0-9._-]/g, '_');

/** Writes a case's PEM files into `root/<id>/`. */
export function writeCaseFiles(c: LimboCase, root: string): CaseFiles {
  const dir = join(root, safeName(c.id));
  mkdirSync(dir, {recursive: true});
  const f: CaseFiles = {dir, ca: join(dir, 'ca.pem'), leaf: join(dir, 'leaf.pem'), chain: join(dir, 'chain.pem')};
  writeFileSync(f.ca, c.trusted_certs.join(''));
  writeFileSync(f.leaf, c.peer_certificate);
  writeFileSync(f.chain, c.peer_certificate + c.untrusted_intermediates.join(''));
  if (c.untrusted_intermediates.length > 0) {
    f.untrusted = join(dir, 'untrusted.pem');
    writeFileSync(f.untrusted, c.untrusted_intermediates.join(''));
  }
  if (c.crls.length > 0) {
    f.crl = join(dir, 'crl.pem');
    writeFileSync(f.crl, c.crls.join(''));
  }
  if (c.peer_certificate_key) {
    f.key = join(dir, 'key.pem');
    writeFileSync(f.key, c.peer_certificate_key, {mode: 0o600});
  }
  return f;
}

/** The `openssl verify` arguments for a case (ALB's flags, see the file comment). */
export function opensslArgs(files: CaseFiles, at: Date, purpose: Purpose): string[] {
  const args = ['verify', '-partial_chain', '-purpose', purpose, '-CAfile', files.ca, '-attime', String(Math.floor(at.getTime() / 1000))];
  if (files.untrusted) args.push('-untrusted', files.untrusted);
  if (files.crl) args.push('-crl_check', '-CRLfile', files.crl);
  args.push(files.leaf);
  return args;
}

function run(args: string[]): Promise<{code: number; out: string}> {
  return new Promise((resolve, reject) => {
    const p = spawn('openssl', args, {stdio: ['ignore', 'pipe', 'pipe']});
    let out = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const timer = setTimeout(() => p.kill('SIGKILL'), 30_000);
    p.on('error', reject);
    p.on('close', (code) => {
      clearTimeout(timer);
      resolve({code: code ?? -1, out});
    });
  });
}

/** openssl's verdict: ok, and the `error N at depth D lookup: ...` lines when not. */
export async function opensslVerdict(files: CaseFiles, at: Date, purpose: Purpose): Promise<{ok: boolean; why: string}> {
  const r = await run(opensslArgs(files, at, purpose));
  const why = r.out
    .split('\n')
    .filter((l) => /^error \d+ at|unable to load|Could not|^error /.test(l))
    .join(' | ');
  return {ok: r.code === 0, why: r.code === 0 ? '' : why || r.out.trim().split('\n').slice(-1)[0] || `exit ${r.code}`};
}

/** mtls-kit's verdict, in process, as `verify` computes it from the same files. */
export function mtlsVerdict(c: LimboCase, at: Date, purpose: Purpose): {ok: boolean; status: string; result?: VerifyChainResult} {
  let anchors: ParsedCertificate[];
  let crls: LoadedCrl[];
  try {
    anchors = readCertificates(Buffer.from(c.trusted_certs.join('')), 'ca.pem');
    crls = c.crls.map((p, i) => loadCrl(Buffer.from(p), `crl-${i}.pem`));
  } catch (error) {
    return {ok: false, status: `Refused:${(error as Error).message}`};
  }
  let chain: ParsedCertificate[];
  try {
    chain = readCertificates(Buffer.from(c.peer_certificate + c.untrusted_intermediates.join('')), 'chain.pem');
  } catch {
    return {ok: false, status: 'Failed:ClientCertInvalid'};
  }
  const result = judgeChain(chain, purpose === 'sslserver' ? SSLSERVER_POLICY : ALB_POLICY, {trustStore: prepareTrustStore(anchors), crls, at});
  return {ok: result.code === null, status: result.status, result};
}

/** Runs `tasks` with at most `limit` at once. */
export async function pool<T>(tasks: Array<() => Promise<T>>, limit: number): Promise<T[]> {
  const out: T[] = new Array(tasks.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < tasks.length) {
      const i = next++;
      out[i] = await tasks[i]!();
    }
  };
  await Promise.all(Array.from({length: Math.min(limit, tasks.length)}, worker));
  return out;
}

/** AWS-LC's verdict for a case: s2n's way for sslclient, `-purpose sslserver` on the whole chain for sslserver. */
export function awsCaseVerdict(files: CaseFiles, at: Date, purpose: Purpose): ReturnType<typeof awslcVerdict> {
  return purpose === 'sslclient' ? awslcVerdict(files, at, {mode: 's2n'}) : awslcVerdict(files, at, {mode: 'openssl', purpose: 'sslserver', crlAll: true});
}

/** Runs every case (both purposes for SERVER cases) through mtls-kit, AWS-LC (when present) and OpenSSL. */
export async function runLimbo(cases: LimboCase[], root: string, now: Date, concurrency = 4): Promise<LimboRow[]> {
  const withAws = awsStackSkip() === false;
  const tasks: Array<() => Promise<LimboRow>> = [];
  for (const c of cases) {
    const files = writeCaseFiles(c, root);
    const at = caseTime(c, now);
    const purposes: Purpose[] = c.validation_kind === 'SERVER' ? ['sslclient', 'sslserver'] : ['sslclient'];
    for (const purpose of purposes) {
      tasks.push(async () => {
        const o = await opensslVerdict(files, at, purpose);
        const a = withAws ? await awsCaseVerdict(files, at, purpose) : null;
        const m = mtlsVerdict(c, at, purpose);
        return {
          id: c.id,
          purpose,
          mtls: m.status,
          mtlsOk: m.ok,
          opensslOk: o.ok,
          openssl: o.why,
          aws: a?.line ?? null,
          awsOk: a?.ok ?? null,
          agree: m.ok === (a ? a.ok : o.ok),
        };
      });
    }
  }
  return pool(tasks, concurrency);
}
