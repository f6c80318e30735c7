import assert from 'node:assert/strict';
import {mkdirSync, readFileSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {before, describe, it} from 'node:test';
import {prng as rng} from './support/prng.js';
import {toSetResult} from '../src/lib/alb/decode-header-result.js';
import {describeCertificate} from '../src/lib/alb/describe.js';
import {readHeaderInput} from '../src/lib/alb/header-input.js';
import {decodeHeaderSet, encodePemForHeader} from '../src/lib/alb/headers.js';
import {lintFiles} from '../src/lib/alb/lint.js';
import {loadCrl, type LoadedCrl, prepareTrustStore, type TrustStore, verifyChain} from '../src/lib/alb/verify.js';
import {isMtlsKitError} from '../src/lib/errors.js';
import type {ParsedCertificate} from '../src/lib/x509/cert.js';
import {formatRfc2253} from '../src/lib/x509/dn.js';
import {readCertificates} from '../src/lib/x509/read-certs.js';
import '../src/io/files.js'; // registers OpenSSL's CRL parse gate, as every command has it
import {certParts, type Node, parseTree, pem, resign} from './support/asn1-tree.js';
import {pool} from './support/limbo.js';
import {makeTestCa, type TestCa} from './support/test-pki.js';
import {tempDir} from './support/tmp.js';
import {spawn} from 'node:child_process';
import {awslcVerdict, awsStackSkip} from './support/aws-stack.js';

/** Where OpenSSL 3 refuses what AWS-LC accepts: OpenSSL's error text → why mtls-kit follows AWS-LC. */
const STACK_DIFFERENCES = JSON.parse(readFileSync(join(import.meta.dirname, 'fixtures', 'fuzz', 'awslc-vs-openssl.json'), 'utf8')) as Array<{
  openssl: string;
  reason: string;
}>;

/**
 * A seeded, bounded differential mutation fuzzer: certificates, chains and CRLs made by
 * mtls-kit and by openssl are mutated (structure-aware on the decoded tree, then
 * re-signed by the real issuer key so that the signature does not hide the mutation; or
 * raw byte damage without re-signing) and run in process through what inspect, verify,
 * lint and decode-header run. No path may throw anything but an MtlsKitError (the CLI's
 * exit 1), and every chain verify accepts must be accepted by AWS's own stack first
 * (`awslc_verify -mode s2n`, AWS-LC as s2n-tls asks it; with a CRL `-mode openssl` with the
 * leaf's CRL, as mtls-kit checks only CAs whose CRL is given) and by
 * `openssl verify -partial_chain -purpose sslclient` second. A chain OpenSSL refuses and
 * AWS-LC accepts is fine only when its cause is one of the committed, reasoned entries of
 * fixtures/fuzz/awslc-vs-openssl.json (matched on OpenSSL's error).
 */
const SEED = 0x10c0ffee;
const CASES = Number(process.env.FUZZ_CASES ?? 2000);
/** openssl runs for every case verify accepts, up to this many (fixed seed, so the same ones each run). */
const OPENSSL_LIMIT = 250;

function allNodes(n: Node, out: Node[] = []): Node[] {
  out.push(n);
  for (const c of n.children ?? []) allNodes(c, out);
  return out;
}

const TIMES = [
  '2402301200Z',
  '241301120000Z',
  '2401011200Z',
  '240101120000.5Z',
  '20240101120000.123Z',
  '240101120000+0100',
  '991231235959Z',
  '500101000000Z',
  '20500101000000Z',
  '19491231235959Z',
  '240229120000Z',
  '230229120000Z',
];
const TAGS = [0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x0c, 0x13, 0x16, 0x17, 0x18, 0x1e, 0x30, 0x31, 0x80, 0x81, 0x82, 0xa0, 0xa3, 0xa4];

/** One structure-aware mutation of a TBS-like tree (in place). */
function mutateTree(root: Node, r: () => number): string {
  const nodes = allNodes(root).slice(1);
  const pick = <T>(xs: T[]): T => xs[Math.floor(r() * xs.length)]!;
  const prims = nodes.filter((n) => n.content);
  const cons = nodes.filter((n) => n.children);
  const op = Math.floor(r() * 11);
  switch (op) {
    case 0: {
      const n = pick(prims);
      if (n.content!.length > 0) {
        const c = Buffer.from(n.content!);
        c[Math.floor(r() * c.length)] ^= 1 << Math.floor(r() * 8);
        n.content = c;
      }
      return 'flip';
    }
    case 1:
      pick(cons).indefinite = true;
      return 'indefinite';
    case 2: {
      const n = pick(cons);
      if (n.children!.length > 0) n.children!.push(structuredClone(pick(n.children!)));
      return 'duplicate child';
    }
    case 3: {
      const n = pick(cons);
      if (n.children!.length > 0) n.children!.splice(Math.floor(r() * n.children!.length), 1);
      return 'remove child';
    }
    case 4: {
      const n = pick(nodes);
      const t = pick(TAGS);
      if ((t & 0x20) === (n.tag & 0x20)) n.tag = t;
      return 'retag';
    }
    case 5: {
      const times = nodes.filter((n) => n.tag === 0x17 || n.tag === 0x18);
      if (times.length > 0) {
        const n = pick(times);
        const s = pick(TIMES);
        n.tag = s.length >= 15 && /^\d{14}/.test(s) ? 0x18 : 0x17;
        n.content = Buffer.from(s, 'latin1');
      }
      return 'time';
    }
    case 6: {
      const ints = nodes.filter((n) => n.tag === 0x02);
      if (ints.length > 0) pick(ints).content = Buffer.from(pick([[0xff], [0x00], [0x80], [0x7f], [0x00, 0x01], [0x01, 0x00, 0x00, 0x00, 0x00, 0x00]]));
      return 'integer';
    }
    case 7: {
      const bools = nodes.filter((n) => n.tag === 0x01);
      if (bools.length > 0) pick(bools).content = Buffer.from(pick([[0x00], [0xff], [0x01], []]));
      // Or make a random extension critical.
      const exts = nodes.filter((n) => n.tag === 0x30 && n.children?.[0]?.tag === 0x06 && n.children.at(-1)?.tag === 0x04);
      if (exts.length > 0 && r() < 0.5) {
        const e = pick(exts);
        if (e.children!.length === 2) e.children!.splice(1, 0, {tag: 0x01, content: Buffer.from([0xff])});
      }
      return 'boolean/critical';
    }
    case 8: {
      const n = pick(prims);
      n.content = Buffer.from(n.content!).subarray(0, Math.floor(r() * n.content!.length));
      return 'truncate';
    }
    case 9: {
      const n = pick(prims);
      const at = Math.floor(r() * (n.content!.length + 1));
      const extra = Buffer.from(Array.from({length: 1 + Math.floor(r() * 3)}, () => Math.floor(r() * 256)));
      n.content = Buffer.concat([Buffer.from(n.content!).subarray(0, at), extra, Buffer.from(n.content!).subarray(at)]);
      return 'insert';
    }
    default: {
      // Algorithm identifiers: add or drop NULL parameters.
      const algs = nodes.filter(
        (n) => n.tag === 0x30 && n.children?.[0]?.tag === 0x06 && n.children.length <= 2 && (n.children.length === 1 || n.children[1]!.tag === 0x05),
      );
      if (algs.length > 0) {
        const a = pick(algs);
        if (a.children!.length === 1) a.children!.push({tag: 0x05, content: Buffer.alloc(0)});
        else a.children!.pop();
      }
      return 'alg params';
    }
  }
}

interface Material {
  ca: TestCa;
  store: TrustStore;
  leafDer: Uint8Array;
  intDer: Uint8Array;
  rootKey: import('node:crypto').KeyObject;
  crlDer: Uint8Array;
}

describe('differential mutation fuzzer: inspect, verify, lint, decode-header against openssl', {timeout: 600_000}, () => {
  const tmp = process.env.FUZZ_DIR ?? tempDir();
  const materials: Material[] = [];

  before(async () => {
    for (const maker of ['mtls-kit', 'openssl'] as const) {
      const ca = await makeTestCa(join(tmp, maker), {intermediate: true, cn: `Fuzz ${maker} Root`, maker});
      const leaf =
        maker === 'openssl'
          ? readFileSync(ca.opensslLeaf('/CN=fuzz-leaf').path)
          : readFileSync((await ca.client('fuzz-leaf', {out: join(tmp, `${maker}-leaf`)})).cert);
      const bundle = readCertificates(readFileSync(ca.bundle), ca.bundle);
      const crlPem = ca.opensslCrl();
      const {createPrivateKey} = await import('node:crypto');
      const rootKey = createPrivateKey(readFileSync(join(ca.dir, 'root', 'ca.key')));
      materials.push({
        ca,
        store: prepareTrustStore([bundle[0]!]),
        leafDer: readCertificates(leaf, 'leaf')[0]!.der,
        intDer: bundle[1]!.der,
        rootKey,
        crlDer: loadCrl(Buffer.from(crlPem), 'crl').der,
      });
    }
  });

  it(`${CASES} seeded cases: no exit-1 path, no hang, no Success where openssl rejects`, async () => {
    const r = rng(SEED);
    const bugs: string[] = [];
    const accepted: Array<{dir: string; what: string; leaf: string; untrusted: string; crl?: string; ca: string}> = [];
    const now = new Date();
    const stats = {cases: 0, success: 0, invalid: 0};
    for (let k = 0; k < CASES; k++) {
      const m = materials[k % materials.length]!;
      const target = r();
      let leafDer: Uint8Array = m.leafDer;
      let intDer: Uint8Array = m.intDer;
      let crlDer: Uint8Array | undefined;
      let what: string;
      try {
        if (target < 0.55) {
          const {tbs, sigAlg} = certParts(m.leafDer);
          what = 'leaf ' + mutateTree(tbs, r) + (r() < 0.3 ? ', ' + mutateTree(tbs, r) : '');
          leafDer = resign(tbs, sigAlg, m.ca.issuer.key, 'sha256');
        } else if (target < 0.7) {
          const {tbs, sigAlg} = certParts(m.intDer);
          what = 'intermediate ' + mutateTree(tbs, r);
          intDer = resign(tbs, sigAlg, m.rootKey, 'sha256');
        } else if (target < 0.85) {
          const [crl] = parseTree(m.crlDer);
          const [tbs, sigAlg] = crl!.children!;
          what = 'crl ' + mutateTree(tbs!, r);
          crlDer = resign(tbs!, sigAlg!, m.ca.issuer.key, 'sha256');
        } else {
          // Raw damage, not re-signed: a byte flipped, bytes appended, a cut.
          const d = Buffer.from(m.leafDer);
          const kind = Math.floor(r() * 3);
          if (kind === 0) d[Math.floor(r() * d.length)] ^= 1 << Math.floor(r() * 8);
          what = ['raw flip', 'raw trailing', 'raw cut'][kind]!;
          leafDer = kind === 1 ? Buffer.concat([d, Buffer.from([0, 0, 5])]) : kind === 2 ? d.subarray(0, Math.floor(r() * d.length)) : d;
        }
      } catch (error) {
        bugs.push(`case ${k}: the mutator failed: ${(error as Error).message}`);
        continue;
      }
      stats.cases++;
      const chainPem = pem(leafDer) + pem(intDer);
      const guard = (where: string, f: () => void): void => {
        try {
          f();
        } catch (error) {
          if (!isMtlsKitError(error)) bugs.push(`case ${k} (${what}) ${where}: ${(error as Error).stack?.split('\n').slice(0, 3).join(' | ')}`);
        }
      };
      // inspect
      guard('inspect', () => {
        for (const c of readCertificates(Buffer.from(chainPem), 'chain.pem')) JSON.stringify(describeCertificate(c));
      });
      // verify (chain as presented, CRL when mutated)
      let chain: ParsedCertificate[] | undefined;
      let crls: LoadedCrl[] = [];
      guard('verify', () => {
        try {
          chain = readCertificates(Buffer.from(chainPem), 'chain.pem');
        } catch (error) {
          if (!isMtlsKitError(error)) throw error;
          stats.invalid++;
          return;
        }
        if (crlDer) crls = [loadCrl(Buffer.from(pem(crlDer, 'X509 CRL')), 'crl.pem')];
        const v = verifyChain({chain, trustStore: m.store, crls, at: now});
        for (const c of v.checks) JSON.stringify(c);
        if (v.code === null) {
          stats.success++;
          const dir = join(tmp, 'accepted', String(k));
          mkdirSync(dir, {recursive: true});
          writeFileSync(join(dir, 'leaf.pem'), pem(leafDer));
          writeFileSync(join(dir, 'untrusted.pem'), pem(intDer));
          // A CRL that no longer names the leaf's issuer is no CRL for this CA: mtls-kit
          // does not check that CA (aws-reference 7.8), so openssl runs without -crl_check.
          const crlApplies = crls.length > 0 && crls[0]!.issuerCanon === chain[0]!.issuerCanon;
          if (crlApplies) writeFileSync(join(dir, 'crl.pem'), pem(crlDer!, 'X509 CRL'));
          accepted.push({
            dir,
            what,
            leaf: join(dir, 'leaf.pem'),
            untrusted: join(dir, 'untrusted.pem'),
            ...(crlApplies ? {crl: join(dir, 'crl.pem')} : {}),
            ca: m.ca.rootCert,
          });
        }
      });
      // lint (the chain as a client file, the CRL with the bundle)
      guard('lint', () => {
        const inputs = [{path: 'client.pem', data: Buffer.from(chainPem)}];
        if (crlDer) inputs.push({path: 'crl.pem', data: Buffer.from(pem(crlDer, 'X509 CRL'))}, {path: 'bundle.pem', data: readFileSync(m.ca.bundle)});
        JSON.stringify(lintFiles(inputs, {target: 'alb', now, warnDays: 30}));
      });
      // decode-header (the passthrough header of the presented chain, with verification)
      guard('decode-header', () => {
        const input = readHeaderInput(`X-Amzn-Mtls-Clientcert: ${encodePemForHeader([leafDer, intDer])}`, 'fuzz');
        for (const fields of input.sets) {
          const set = decodeHeaderSet(fields);
          if (set) JSON.stringify(toSetResult(set, (c) => ({...verifyChain({chain: c, trustStore: m.store, at: now})})));
        }
        for (const c of chain ?? []) formatRfc2253(c.subject);
      });
    }
    assert.deepEqual(bugs.slice(0, 20), [], `${bugs.length} cases reached an exit-1 path`);

    // Every accepted chain through AWS-LC, then openssl (first OPENSSL_LIMIT, fixed by the seed).
    const disagreements: string[] = [];
    const withAws = awsStackSkip() === false;
    await pool(
      accepted.slice(0, OPENSSL_LIMIT).map((a) => async () => {
        const aws = withAws
          ? await awslcVerdict({ca: a.ca, leaf: a.leaf, untrusted: a.untrusted, ...(a.crl ? {crl: a.crl} : {})}, now, {mode: a.crl ? 'openssl' : 's2n'})
          : null;
        if (aws && !aws.ok) disagreements.push(`${a.dir} (${a.what}): mtls-kit Success, AWS-LC ${aws.line}`);
        const args = [
          'verify',
          '-partial_chain',
          '-purpose',
          'sslclient',
          '-CAfile',
          a.ca,
          '-untrusted',
          a.untrusted,
          ...(a.crl ? ['-crl_check', '-CRLfile', a.crl] : []),
          a.leaf,
        ];
        const o = await new Promise<{code: number; out: string}>((resolve) => {
          const p = spawn('openssl', args);
          let out = '';
          p.stdout.on('data', (d: Buffer) => (out += d));
          p.stderr.on('data', (d: Buffer) => (out += d));
          const t = setTimeout(() => p.kill('SIGKILL'), 30_000);
          p.on('close', (code) => {
            clearTimeout(t);
            resolve({code: code ?? -1, out});
          });
        });
        const why = o.out
          .trim()
          .split('\n')
          .filter((l) => l.startsWith('error'))
          .join(' | ');
        // OpenSSL refusing what AWS-LC accepts: only a committed, reasoned difference.
        if (o.code !== 0 && !(aws?.ok && STACK_DIFFERENCES.some((d) => why.includes(d.openssl))))
          disagreements.push(`${a.dir} (${a.what}): mtls-kit Success${aws?.ok ? ' and AWS-LC OK' : ''}, openssl: ${why}`);
      }),
      4,
    );
    assert.deepEqual(
      disagreements,
      [],
      `${disagreements.length} of ${Math.min(accepted.length, OPENSSL_LIMIT)} accepted chains are rejected by AWS-LC or openssl`,
    );
    assert.ok(stats.success > 0 && stats.invalid > 0, `the fuzzer must reach both outcomes: ${JSON.stringify(stats)}`);
  });
});
