/**
 * The one test-PKI builder. A CA directory in the layout `mtls-kit gen-ca` writes
 * (root/, intermediate/, ca-bundle.pem, index.txt per tier), made by the real CLI or, with
 * `maker: 'openssl'`, by the openssl CLI (so every certificate comes from a real peer), plus
 * what the peers need on top: leaves signed by `openssl x509 -req`, CRLs made by
 * `openssl ca -gencrl` from the tier's index.txt, clients made by `gen-client` (and its
 * `--defect` kinds), and the issuing tier loaded for lib-level tests.
 *
 * Call tempDir() at describe level, not in a hook: its cleanup would run when the hook ends.
 */
import {appendFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {buildDefect, type DefectKind, type DefectMaterial} from '../../src/lib/alb/defects.js';
import type {ClientIssuer} from '../../src/lib/pki/client-cert.js';
import {KEY_TYPES} from '../../src/lib/x509/profiles.js';
import {parseCertificate, type ParsedCertificate} from '../../src/lib/x509/cert.js';
import {formatIndexLine, type IndexEntry} from '../../src/lib/x509/index-db.js';
import {loadPrivateKey} from '../../src/lib/x509/issue.js';
import {parsePem, toPem} from '../../src/lib/x509/pem.js';
import {readCertificates} from '../../src/lib/x509/read-certs.js';
import {runCli} from './cli.js';
import {opensslOk} from './openssl.js';

export type Tier = 'root' | 'intermediate';

export interface TestCaOptions {
  /** A root and an intermediate that issues the clients (default false: the root issues). */
  intermediate?: boolean;
  cn?: string;
  /** gen-ca --key-type (mtls-kit maker only). */
  keyType?: string;
  /** Who makes the CA certificates (default 'mtls-kit': `gen-ca`). */
  maker?: 'mtls-kit' | 'openssl';
}

/** Files of one client certificate made by gen-client. */
export interface ClientFiles {
  cert: string;
  key: string;
  chain: string;
  /** Leaf + intermediate + root, for passthrough. */
  chain3: string;
  serial: string;
  /** For `--defect revoked`: the CRL that lists it. */
  crl: string | null;
}

export interface TestCa {
  dir: string;
  /** ca-bundle.pem: root (+ intermediate). */
  bundle: string;
  rootCert: string;
  rootPem: string;
  intermediatePem: string | null;
  issuerTier: Tier;
  /** The issuing tier's certificate and key, loaded on first use. */
  readonly issuer: ClientIssuer;
  /** Appends index entries to a tier's index.txt (default the issuing tier), as gen-client does. */
  recordInIndex(entries: IndexEntry[], tier?: Tier): void;
  /** Marks a serial revoked in a tier's index.txt (the line `openssl ca -revoke` writes). */
  revokeSerial(serialHex: string, tier?: Tier): void;
  /** Writes `<tier>/crl.pem` with `openssl ca -gencrl` (cRLNumber increases each time); returns the PEM. */
  /** `extensions`: lines of a crl_extensions section (e.g. an issuingDistributionPoint and its `[idp]` section). */
  opensslCrl(tier?: Tier, opts?: {days?: number; md?: string; lastUpdate?: string; nextUpdate?: string; extensions?: string[]}): string;
  /** A client leaf signed by the issuing tier with `openssl x509 -req` (EC P-256, clientAuth). */
  opensslLeaf(subj: string, opts?: {serial?: string; days?: number; name?: string}): {path: string; pem: string; cert: ParsedCertificate};
  /** A client made by `mtls-kit gen-client` (optionally `--defect KIND`) into `<out>`. */
  client(name: string, opts?: {out?: string; defect?: string}): Promise<ClientFiles>;
}

const CA_EXT = 'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n';
const LEAF_EXT = 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\nauthorityKeyIdentifier=keyid\n';

const ecKey = (path: string): void => {
  opensslOk(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', path]);
};

/** The CA certificates and keys by openssl, in gen-ca's layout. */
function opensslCa(dir: string, cn: string, intermediate: boolean): void {
  const root = join(dir, 'root');
  mkdirSync(root, {recursive: true});
  writeFileSync(join(dir, 'ca.ext'), CA_EXT);
  ecKey(join(root, 'ca.key'));
  opensslOk([
    'req',
    '-x509',
    '-new',
    '-key',
    join(root, 'ca.key'),
    '-subj',
    `/C=US/O=Header Tests/CN=${cn}`,
    '-days',
    '3650',
    '-out',
    join(root, 'ca.crt'),
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
  ]);
  writeFileSync(join(root, 'index.txt'), '');
  let bundle = readFileSync(join(root, 'ca.crt'), 'utf8');
  if (intermediate) {
    const int = join(dir, 'intermediate');
    mkdirSync(int, {recursive: true});
    ecKey(join(int, 'ca.key'));
    opensslOk(['req', '-new', '-key', join(int, 'ca.key'), '-subj', '/C=US/O=Header Tests/CN=Header Intermediate', '-out', join(int, 'ca.csr')]);
    opensslOk([
      'x509',
      '-req',
      '-in',
      join(int, 'ca.csr'),
      '-CA',
      join(root, 'ca.crt'),
      '-CAkey',
      join(root, 'ca.key'),
      '-set_serial',
      '0x1001',
      '-days',
      '1825',
      '-extfile',
      join(dir, 'ca.ext'),
      '-out',
      join(int, 'ca.crt'),
    ]);
    writeFileSync(join(int, 'index.txt'), '');
    bundle += readFileSync(join(int, 'ca.crt'), 'utf8');
  }
  writeFileSync(join(dir, 'ca-bundle.pem'), bundle);
}

/** Makes a CA directory at `dir` (created if missing). */
export async function makeTestCa(dir: string, opts: TestCaOptions = {}): Promise<TestCa> {
  const intermediate = opts.intermediate ?? false;
  const cn = opts.cn ?? 'Test Root';
  if (opts.maker === 'openssl') {
    opensslCa(dir, cn, intermediate);
  } else {
    const r = await runCli([
      'gen-ca',
      '--dir',
      dir,
      '--cn',
      cn,
      '--json',
      ...(intermediate ? ['--intermediate'] : []),
      ...(opts.keyType ? ['--key-type', opts.keyType] : []),
    ]);
    if (r.code !== 0) throw new Error(`gen-ca failed: ${r.stderr}`);
  }
  const issuerTier: Tier = intermediate ? 'intermediate' : 'root';
  const rootCert = join(dir, 'root', 'ca.crt');
  let issuer: ClientIssuer | undefined;
  let leaves = 0;
  const ca: TestCa = {
    dir,
    bundle: join(dir, 'ca-bundle.pem'),
    rootCert,
    rootPem: readFileSync(rootCert, 'utf8'),
    intermediatePem: intermediate ? readFileSync(join(dir, 'intermediate', 'ca.crt'), 'utf8') : null,
    issuerTier,
    get issuer() {
      if (!issuer) {
        const cert = parseCertificate(parsePem(readFileSync(join(dir, issuerTier, 'ca.crt'), 'utf8'), 'ca.crt')[0]!.der);
        const {key, spec} = loadPrivateKey(readFileSync(join(dir, issuerTier, 'ca.key'), 'utf8'), 'ca.key', undefined);
        issuer = {cert, key, spec, chain: intermediate ? [cert] : []};
      }
      return issuer;
    },
    recordInIndex(entries, tier = issuerTier) {
      appendFileSync(join(dir, tier, 'index.txt'), entries.map(formatIndexLine).join(''));
    },
    revokeSerial(serialHex, tier = issuerTier) {
      appendFileSync(join(dir, tier, 'index.txt'), `R\t351231235959Z\t251101000000Z\t${serialHex}\tunknown\t/CN=revoked-${serialHex}\n`);
    },
    opensslCrl(tier = issuerTier, o = {}) {
      const t = join(dir, tier);
      if (!existsSync(join(t, 'crlnumber'))) writeFileSync(join(t, 'crlnumber'), '01\n');
      const cfg = join(t, 'openssl-crl.cnf');
      writeFileSync(
        cfg,
        [
          '[ca]',
          'default_ca = CA_default',
          '[CA_default]',
          `database = ${join(t, 'index.txt')}`,
          `crlnumber = ${join(t, 'crlnumber')}`,
          `certificate = ${join(t, 'ca.crt')}`,
          `private_key = ${join(t, 'ca.key')}`,
          `default_md = ${o.md ?? 'sha256'}`,
          `default_crl_days = ${o.days ?? 30}`,
          ...(o.extensions ? ['crl_extensions = crl_ext', '[crl_ext]', ...o.extensions] : []),
          '',
        ].join('\n'),
      );
      const times = [...(o.lastUpdate ? ['-crl_lastupdate', o.lastUpdate] : []), ...(o.nextUpdate ? ['-crl_nextupdate', o.nextUpdate] : [])];
      opensslOk(['ca', '-gencrl', '-batch', '-config', cfg, ...times, '-out', join(t, 'crl.pem')]);
      return opensslOk(['crl', '-in', join(t, 'crl.pem')]);
    },
    opensslLeaf(subj, o = {}) {
      const name = o.name ?? `leaf-${leaves++}`;
      const base = join(dir, 'leaves');
      mkdirSync(base, {recursive: true});
      writeFileSync(join(base, 'leaf.ext'), LEAF_EXT);
      ecKey(join(base, `${name}.key`));
      opensslOk(['req', '-new', '-key', join(base, `${name}.key`), '-subj', subj, '-utf8', '-multivalue-rdn', '-out', join(base, `${name}.csr`)]);
      const t = join(dir, issuerTier);
      opensslOk([
        'x509',
        '-req',
        '-in',
        join(base, `${name}.csr`),
        '-CA',
        join(t, 'ca.crt'),
        '-CAkey',
        join(t, 'ca.key'),
        '-set_serial',
        o.serial ?? `0x${(0x2000 + leaves).toString(16)}`,
        '-days',
        String(o.days ?? 365),
        '-extfile',
        join(base, 'leaf.ext'),
        '-out',
        join(base, `${name}.pem`),
      ]);
      const path = join(base, `${name}.pem`);
      const pem = readFileSync(path, 'utf8');
      return {path, pem, cert: readCertificates(new Uint8Array(Buffer.from(pem)), path)[0]!};
    },
    async client(name, o = {}) {
      const out = o.out ?? join(dir, '..', name);
      const r = await runCli([
        'gen-client',
        '--dir',
        dir,
        '--cn',
        name,
        '--org',
        'Acme, Inc.',
        '--country',
        'US',
        '--out',
        out,
        '--json',
        ...(o.defect ? ['--defect', o.defect] : []),
      ]);
      if (r.code !== 0) throw new Error(`gen-client ${name}: ${r.stderr}`);
      const files = r.json.certificate.files as {key: string; certificate: string; chain: string};
      const chain3 = join(out, 'chain3.pem');
      writeFileSync(chain3, readFileSync(files.chain, 'utf8') + readFileSync(rootCert, 'utf8'));
      return {cert: files.certificate, key: files.key, chain: files.chain, chain3, serial: r.json.certificate.serial, crl: r.json.defect?.crl ?? null};
    },
  };
  return ca;
}

/** makeTestCa in a fresh folder `pki-XXXX` under `base`. */
export function makeTestCaIn(base: string, opts: TestCaOptions = {}): Promise<TestCa> {
  return makeTestCa(mkdtempSync(join(base, 'pki-')), opts);
}

/** The client set of the serve and demo tests: a good client and four defects, under a two-tier CA. */
export interface ServeClients {
  ca: TestCa;
  dir: string;
  good: ClientFiles;
  expired: ClientFiles;
  wrongPurpose: ClientFiles;
  untrusted: ClientFiles;
  revoked: ClientFiles;
  /** The intermediate's CRL, listing `revoked`. */
  crl: string;
  rootCert: string;
}

/** gen-ca --intermediate into tmp/pki, then a good client and four `--defect` clients. */
export async function makeServeClients(tmp: string): Promise<ServeClients> {
  const ca = await makeTestCa(join(tmp, 'pki'), {intermediate: true, cn: 'Serve Test Root'});
  const at = (n: string) => ({out: join(tmp, n)});
  const [good, expired, wrongPurpose, untrusted] = await Promise.all([
    ca.client('device-good', at('device-good')),
    ca.client('device-expired', {...at('device-expired'), defect: 'expired'}),
    ca.client('device-server-eku', {...at('device-server-eku'), defect: 'wrong-purpose'}),
    ca.client('device-untrusted', {...at('device-untrusted'), defect: 'untrusted'}),
  ]);
  const revoked = await ca.client('device-revoked', {...at('device-revoked'), defect: 'revoked'});
  return {ca, dir: ca.dir, good, expired, wrongPurpose, untrusted, revoked, crl: revoked.crl!, rootCert: ca.rootCert};
}

/** Writes PEM files for DER certificates and returns the path. */
export function writePem(path: string, ders: Uint8Array[]): string {
  writeFileSync(path, ders.map((d) => toPem(d, 'CERTIFICATE')).join(''));
  return path;
}

/** A defect client of `ca` (lib/alb/defects.ts) written to `dir`: `<kind>.crt`, `<kind>-chain.pem` and any intermediates it presents. */
export interface DefectFiles {
  material: DefectMaterial;
  leaf: string;
  chain: string;
  intermediates?: string;
}

/** Builds a `kind` client (CN `cn`) issued by `ca`, records it in the index, writes its files and, for `revoked`, revokes it (the caller writes the CRL). */
export async function writeDefect(ca: TestCa, dir: string, kind: DefectKind, now: Date, cn = `defect-${kind}`): Promise<DefectFiles> {
  const material = buildDefect({kind, issuer: ca.issuer, subject: [[{type: '2.5.4.3', value: cn}]], keySpec: KEY_TYPES['ec-p256'], days: 30, now});
  ca.recordInIndex(material.indexEntries);
  const leaf = writePem(join(dir, `${kind}.crt`), [material.issued.certDer]);
  const chain = join(dir, `${kind}-chain.pem`);
  writeFileSync(chain, material.issued.chainPem);
  const intermediates =
    material.presentedIntermediates.length > 0 ? writePem(join(dir, `${kind}-intermediates.pem`), material.presentedIntermediates) : undefined;
  if (material.revoke) {
    const r = await runCli(['revoke', material.issued.parsed.serialHex, '--dir', ca.dir, '--reason', 'keyCompromise']);
    if (r.code !== 0) throw new Error(`revoke: ${r.stderr}`);
  }
  return {material, leaf, chain, ...(intermediates ? {intermediates} : {})};
}
