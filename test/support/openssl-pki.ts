/**
 * A three-tier PKI made by the openssl CLI (root → intermediate → client leaves), for
 * header tests: every certificate here comes from a real peer, not from our code.
 */
import {readFileSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {readCertificates} from '../../src/lib/x509/read-certs.js';
import type {ParsedCertificate} from '../../src/lib/x509/cert.js';
import {opensslOk} from './openssl.js';

export interface OpensslPki {
  dir: string;
  rootPem: string;
  intermediatePem: string;
  /** root + intermediate, as an ALB trust-store bundle. */
  bundlePath: string;
  /** Issues a client leaf under the intermediate; returns its PEM path and parsed form. */
  leaf(subj: string, opts?: {serial?: string; days?: number; name?: string}): {path: string; pem: string; cert: ParsedCertificate};
}

const CA_EXT = 'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n';
const LEAF_EXT = 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\nauthorityKeyIdentifier=keyid\n';

function key(path: string): void {
  opensslOk(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', path]);
}

/** Builds the PKI in `dir`. */
export function makeOpensslPki(dir: string): OpensslPki {
  writeFileSync(join(dir, 'ca.ext'), CA_EXT);
  writeFileSync(join(dir, 'leaf.ext'), LEAF_EXT);
  key(join(dir, 'root.key'));
  opensslOk(['req', '-x509', '-new', '-key', join(dir, 'root.key'), '-subj', '/C=US/O=Header Tests/CN=Header Root', '-days', '3650', '-out', join(dir, 'root.pem'), '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
  key(join(dir, 'int.key'));
  opensslOk(['req', '-new', '-key', join(dir, 'int.key'), '-subj', '/C=US/O=Header Tests/CN=Header Intermediate', '-out', join(dir, 'int.csr')]);
  opensslOk(['x509', '-req', '-in', join(dir, 'int.csr'), '-CA', join(dir, 'root.pem'), '-CAkey', join(dir, 'root.key'), '-set_serial', '0x1001', '-days', '1825', '-extfile', join(dir, 'ca.ext'), '-out', join(dir, 'int.pem')]);
  const rootPem = readFileSync(join(dir, 'root.pem'), 'utf8');
  const intermediatePem = readFileSync(join(dir, 'int.pem'), 'utf8');
  writeFileSync(join(dir, 'bundle.pem'), rootPem + intermediatePem);
  let n = 0;
  return {
    dir,
    rootPem,
    intermediatePem,
    bundlePath: join(dir, 'bundle.pem'),
    leaf(subj, opts = {}) {
      const name = opts.name ?? `leaf-${n++}`;
      key(join(dir, `${name}.key`));
      opensslOk(['req', '-new', '-key', join(dir, `${name}.key`), '-subj', subj, '-utf8', '-multivalue-rdn', '-out', join(dir, `${name}.csr`)]);
      opensslOk(['x509', '-req', '-in', join(dir, `${name}.csr`), '-CA', join(dir, 'int.pem'), '-CAkey', join(dir, 'int.key'), '-set_serial', opts.serial ?? `0x${(0x2000 + n).toString(16)}`, '-days', String(opts.days ?? 365), '-extfile', join(dir, 'leaf.ext'), '-out', join(dir, `${name}.pem`)]);
      const path = join(dir, `${name}.pem`);
      const pem = readFileSync(path, 'utf8');
      return {path, pem, cert: readCertificates(new Uint8Array(Buffer.from(pem)), path)[0]!};
    },
  };
}
