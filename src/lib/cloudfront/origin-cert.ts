/**
 * CloudFront origin mTLS: the rules for the client certificate CloudFront presents to an
 * origin (aws-reference 11.8, page `CF-origin-acm`), as data, and the check of issued
 * material against them. Pure: the caller reads the files.
 */
import type {ParsedCertificate} from '../x509/cert.js';
import type {KeyType} from '../x509/profiles.js';

const OID_CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';

/** CloudFront's documented limits for an origin mTLS certificate (aws-reference 11.8, CF-origin-acm). */
export const ORIGIN_CERT_RULES = {
  /** Leaf + intermediate + root. */
  maxChainDepth: 3,
  maxChainBytes: 64 * 1024,
  maxCertificateBytes: 96 * 1024,
  maxKeyBytes: 5 * 1024,
  /** mtls-kit key types CloudFront accepts: RSA 2048 or ECDSA P-256. */
  keyTypes: ['ec-p256', 'rsa-2048'] as readonly KeyType[],
  hashes: ['sha256', 'sha384', 'sha512'] as readonly string[],
} as const;

/** One rule CloudFront would refuse the material by. */
export interface OriginRuleFailure {
  rule: 'key-type' | 'chain-depth' | 'chain-size' | 'certificate-size' | 'key-size' | 'x509-version' | 'signature' | 'eku' | 'validity';
  detail: string;
}

/** Null when CloudFront accepts the key type, else the failure naming the rule. */
export function checkOriginKeyType(keyType: string): OriginRuleFailure | null {
  return (ORIGIN_CERT_RULES.keyTypes as readonly string[]).includes(keyType)
    ? null
    : {rule: 'key-type', detail: `CloudFront origin mTLS takes RSA 2048 or ECDSA P-256 keys, not ${keyType} (use --key-type ec-p256 or rsa-2048)`};
}

/**
 * The rules a chain breaks before anything is issued from it: depth (the leaf to come plus
 * these CA certificates), X.509 version and signature algorithm of each.
 * @param caPath the issuing CA first, up to and including the root
 */
export function checkOriginCaPath(caPath: ParsedCertificate[]): OriginRuleFailure[] {
  const r = ORIGIN_CERT_RULES;
  const out: OriginRuleFailure[] = [];
  const depth = caPath.length + 1;
  if (depth > r.maxChainDepth)
    out.push({rule: 'chain-depth', detail: `the chain is ${depth} certificates deep; CloudFront takes at most ${r.maxChainDepth} (leaf, intermediate, root)`});
  for (const c of caPath) out.push(...certificateFailures(c));
  return out;
}

function certificateFailures(c: ParsedCertificate): OriginRuleFailure[] {
  const out: OriginRuleFailure[] = [];
  if (c.version !== 3) out.push({rule: 'x509-version', detail: `a certificate of the chain is X.509 v${c.version}; CloudFront takes v3`});
  const sig = c.signatureAlgorithm;
  const hash = sig.pss ? sig.pss.hash : sig.hash;
  if (!hash || !ORIGIN_CERT_RULES.hashes.includes(hash))
    out.push({
      rule: 'signature',
      detail: `a certificate of the chain is signed with ${sig.name}; CloudFront takes SHA-256/384/512 with RSA, ECDSA or RSASSA-PSS`,
    });
  return out;
}

/**
 * Checks issued material against CloudFront's rules.
 * @param path leaf first, then the CA certificates up to and including the root (what ACM gets as leaf + chain)
 * @param sizes the PEM sizes in bytes of the certificate, the chain (CA certificates) and the key
 */
export function checkOriginMaterial(path: ParsedCertificate[], sizes: {certificate: number; chain: number; key: number}): OriginRuleFailure[] {
  const r = ORIGIN_CERT_RULES;
  const leaf = path[0];
  if (!leaf) return [{rule: 'chain-depth', detail: 'no certificate'}];
  const out = [...checkOriginCaPath(path.slice(1)), ...certificateFailures(leaf)];
  if (sizes.chain > r.maxChainBytes) out.push({rule: 'chain-size', detail: `the chain is ${sizes.chain} bytes; CloudFront takes at most ${r.maxChainBytes}`});
  if (sizes.certificate > r.maxCertificateBytes)
    out.push({rule: 'certificate-size', detail: `the certificate is ${sizes.certificate} bytes; CloudFront takes at most ${r.maxCertificateBytes}`});
  if (sizes.key > r.maxKeyBytes) out.push({rule: 'key-size', detail: `the private key is ${sizes.key} bytes; CloudFront takes at most ${r.maxKeyBytes}`});
  const pk = leaf.publicKey;
  const keyOk = (pk.kind === 'rsa' && pk.bits === 2048) || (pk.kind === 'ec' && pk.curve === 'prime256v1');
  if (!keyOk) out.push({rule: 'key-type', detail: `the key is ${pk.kind} ${pk.curve ?? pk.bits}; CloudFront takes RSA 2048 or ECDSA P-256`});
  if (!(leaf.extKeyUsage?.oids ?? []).includes(OID_CLIENT_AUTH))
    out.push({rule: 'eku', detail: 'the certificate lacks the extended key usage TLS client authentication (clientAuth)'});
  return out;
}
