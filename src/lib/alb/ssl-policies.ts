/**
 * The Application Load Balancer's TLS security policies by name (aws-reference 13), as one
 * table of data: the protocol versions and cipher suites AWS lists for each policy, in
 * AWS's order (the server's preference), with OpenSSL's names (TLS 1.3 suites as TLS_*).
 * `serve --ssl-policy NAME` turns a row into Node's TLS options (tlsOptionsForPolicy).
 *
 * Pure: no fs, net or process; whether the running OpenSSL knows a group is a parameter.
 */
import type {ParsedCertificate} from '../x509/cert.js';

export type TlsProtocol = 'TLSv1' | 'TLSv1.1' | 'TLSv1.2' | 'TLSv1.3';

/** One security policy. */
export interface SslPolicy {
  name: string;
  /** Protocol versions, oldest first (contiguous, as in every ALB policy). */
  protocols: readonly TlsProtocol[];
  /** Cipher suites in AWS's order: TLS 1.3 suites first (TLS_*), then OpenSSL names for TLS 1.2 and older. */
  ciphers: readonly string[];
  /** Hybrid post-quantum key exchange (the PQ policies, aws-reference 13.2). */
  pq: boolean;
  /**
   * Whether a client certificate with an RSASSA-PSS key (id-RSASSA-PSS, signature schemes
   * rsa_pss_pss_*) can authenticate. AWS's TLS stack (s2n-tls) defines the pre-TLS 1.3 ELB
   * policies with signature preferences that have no rsa_pss_pss scheme; for the TLS 1.3
   * policies AWS documents nothing (UNCONFIRMED, aws-reference 13.4): mtls-kit assumes yes.
   */
  rsaPssClientKeys: boolean;
}

// The cipher lists AWS publishes, composed from the blocks they share.
const TLS13 = ['TLS_AES_128_GCM_SHA256', 'TLS_AES_256_GCM_SHA384', 'TLS_CHACHA20_POLY1305_SHA256'];
const GCM128 = ['ECDHE-ECDSA-AES128-GCM-SHA256', 'ECDHE-RSA-AES128-GCM-SHA256'];
const SHA256 = ['ECDHE-ECDSA-AES128-SHA256', 'ECDHE-RSA-AES128-SHA256'];
const SHA1_128 = ['ECDHE-ECDSA-AES128-SHA', 'ECDHE-RSA-AES128-SHA'];
const GCM256 = ['ECDHE-ECDSA-AES256-GCM-SHA384', 'ECDHE-RSA-AES256-GCM-SHA384'];
const SHA384 = ['ECDHE-ECDSA-AES256-SHA384', 'ECDHE-RSA-AES256-SHA384'];
const RSA_KX_NO_SHA1 = ['AES128-GCM-SHA256', 'AES128-SHA256', 'AES256-GCM-SHA384', 'AES256-SHA256'];
const RSA_KX = ['AES128-GCM-SHA256', 'AES128-SHA256', 'AES128-SHA', 'AES256-GCM-SHA384', 'AES256-SHA256', 'AES256-SHA'];
/** ELBSecurityPolicy-TLS13-1-2-2021-06 and its PQ twin. */
const TLS13_1_2 = [...TLS13, ...GCM128, ...SHA256, ...GCM256, ...SHA384];
const TLS13_1_2_RES = [...TLS13, ...GCM128, ...GCM256];
const TLS13_1_2_EXT1 = [...TLS13_1_2, ...RSA_KX_NO_SHA1];
/** Ext2, 1-1 and 1-0 differ only in the order of the two ECDHE AES256-SHA suites, as AWS lists them. */
const TLS13_1_2_EXT2 = [...TLS13, ...GCM128, ...SHA256, ...SHA1_128, ...GCM256, ...SHA384, 'ECDHE-ECDSA-AES256-SHA', 'ECDHE-RSA-AES256-SHA', ...RSA_KX];
const TLS13_1_0 = [...TLS13, ...GCM128, ...SHA256, ...SHA1_128, ...GCM256, ...SHA384, 'ECDHE-RSA-AES256-SHA', 'ECDHE-ECDSA-AES256-SHA', ...RSA_KX];
const CLASSIC = [...GCM128, ...SHA256, ...SHA1_128, ...GCM256, ...SHA384, 'ECDHE-RSA-AES256-SHA', 'ECDHE-ECDSA-AES256-SHA', ...RSA_KX];
const FS_CLASSIC = [...GCM128, ...SHA256, ...SHA1_128, ...GCM256, ...SHA384, 'ECDHE-RSA-AES256-SHA', 'ECDHE-ECDSA-AES256-SHA'];
const V12_13: TlsProtocol[] = ['TLSv1.2', 'TLSv1.3'];
const V10_12: TlsProtocol[] = ['TLSv1', 'TLSv1.1', 'TLSv1.2'];

const tls13Pair = (suffix: string, protocols: TlsProtocol[], ciphers: string[]): SslPolicy[] => [
  {name: `ELBSecurityPolicy-TLS13-${suffix}-2021-06`, protocols, ciphers, pq: false, rsaPssClientKeys: true},
  {name: `ELBSecurityPolicy-TLS13-${suffix}-PQ-2025-09`, protocols, ciphers, pq: true, rsaPssClientKeys: true},
];
const classic = (name: string, protocols: TlsProtocol[], ciphers: string[]): SslPolicy => ({name, protocols, ciphers, pq: false, rsaPssClientKeys: false});

/**
 * Every policy `serve --ssl-policy` knows, in the order AWS's page lists them. The PQ
 * policies carry the same versions and ciphers as their 2021-06 twins (aws-reference 13.2).
 * ELBSecurityPolicy-TLS13-1-1-2021-06 has no PQ twin. FIPS policies are not reproduced
 * (Node's OpenSSL is not a FIPS module here).
 */
export const SSL_POLICIES: readonly SslPolicy[] = [
  ...tls13Pair('1-2-Res', V12_13, TLS13_1_2_RES),
  ...tls13Pair('1-2', V12_13, TLS13_1_2),
  ...tls13Pair('1-2-Ext1', V12_13, TLS13_1_2_EXT1),
  ...tls13Pair('1-2-Ext2', V12_13, TLS13_1_2_EXT2),
  ...tls13Pair('1-3', ['TLSv1.3'], TLS13),
  {name: 'ELBSecurityPolicy-TLS13-1-1-2021-06', protocols: ['TLSv1.1', 'TLSv1.2', 'TLSv1.3'], ciphers: TLS13_1_0, pq: false, rsaPssClientKeys: true},
  ...tls13Pair('1-0', ['TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3'], TLS13_1_0),
  classic('ELBSecurityPolicy-2016-08', V10_12, CLASSIC),
  classic('ELBSecurityPolicy-TLS-1-1-2017-01', ['TLSv1.1', 'TLSv1.2'], CLASSIC),
  classic('ELBSecurityPolicy-TLS-1-2-Ext-2018-06', ['TLSv1.2'], CLASSIC),
  classic('ELBSecurityPolicy-TLS-1-2-2017-01', ['TLSv1.2'], [...GCM128, ...SHA256, ...GCM256, ...SHA384, ...RSA_KX_NO_SHA1]),
  classic('ELBSecurityPolicy-FS-2018-06', V10_12, FS_CLASSIC),
  classic('ELBSecurityPolicy-FS-1-1-2019-08', ['TLSv1.1', 'TLSv1.2'], FS_CLASSIC),
  classic('ELBSecurityPolicy-FS-1-2-2019-08', ['TLSv1.2'], FS_CLASSIC),
  classic('ELBSecurityPolicy-FS-1-2-Res-2019-08', ['TLSv1.2'], [...GCM128, ...SHA256, ...GCM256, ...SHA384]),
  classic('ELBSecurityPolicy-FS-1-2-Res-2020-10', ['TLSv1.2'], [...GCM128, ...GCM256]),
  classic('ELBSecurityPolicy-2015-05', V10_12, CLASSIC),
  classic('ELBSecurityPolicy-TLS-1-0-2015-04', V10_12, [...CLASSIC, 'DES-CBC3-SHA']),
];

/** The policy names, for the usage error and the flag's help. */
export const SSL_POLICY_NAMES: readonly string[] = SSL_POLICIES.map((p) => p.name);

/** The policy of that name (exact, as AWS spells it), or undefined. */
export function findSslPolicy(name: string): SslPolicy | undefined {
  return SSL_POLICIES.find((p) => p.name === name);
}

/**
 * The key-exchange groups, OpenSSL's names, most preferred first. The PQ policies support
 * SecP256r1MLKEM768, SecP384r1MLKEM1024 and X25519MLKEM768 (aws-reference 13.2), TLS 1.3
 * only; the classical groups are UNCONFIRMED for ALB (AWS lists none): s2n-tls's ELB
 * policies use P-256 and P-384, its TLS 1.3 policies X25519 too (aws-reference 13.3).
 */
export const PQ_GROUPS = ['X25519MLKEM768', 'SecP256r1MLKEM768', 'SecP384r1MLKEM1024'] as const;
export const TLS13_CLASSICAL_GROUPS = ['X25519', 'P-256', 'P-384'] as const;
export const CLASSIC_GROUPS = ['P-256', 'P-384'] as const;

/** Node's TLS options for a policy, and the PQ groups left out because the running OpenSSL lacks them. */
export interface PolicyTlsOptions {
  options: {minVersion: TlsProtocol; maxVersion: TlsProtocol; ciphers: string; ecdhCurve: string};
  missingGroups: string[];
}

/**
 * Maps a policy onto Node's secure-context options. `ciphers` carries the TLS 1.3 suites
 * too (Node passes TLS_* names to OpenSSL's TLS 1.3 list). Policies with TLS 1.0/1.1 add
 * `@SECLEVEL=0`, without which OpenSSL 3 refuses those versions.
 * @param groupSupported whether the running OpenSSL accepts a group name.
 */
export function tlsOptionsForPolicy(policy: SslPolicy, groupSupported: (group: string) => boolean): PolicyTlsOptions {
  const legacy = policy.protocols.includes('TLSv1') || policy.protocols.includes('TLSv1.1');
  const classical = policy.protocols.includes('TLSv1.3') ? TLS13_CLASSICAL_GROUPS : CLASSIC_GROUPS;
  const pq = policy.pq ? PQ_GROUPS.filter((g) => groupSupported(g)) : [];
  const missingGroups = policy.pq ? PQ_GROUPS.filter((g) => !pq.includes(g)) : [];
  return {
    options: {
      minVersion: policy.protocols[0]!,
      maxVersion: policy.protocols[policy.protocols.length - 1]!,
      ciphers: policy.ciphers.join(':') + (legacy ? ':@SECLEVEL=0' : ''),
      ecdhCurve: [...pq, ...classical].join(':'),
    },
    missingGroups,
  };
}

/**
 * Why a client certificate conflicts with the listener's security policy, or null: ALB's
 * `ClientCertIncompatible` (aws-reference 5, 13.4). mtls-kit's rule: a leaf with an
 * RSASSA-PSS key on a policy that has no rsa_pss_pss signature scheme.
 */
export function policyIncompatibility(policy: SslPolicy, leaf: ParsedCertificate): string | null {
  if (leaf.publicKey.kind === 'rsa-pss' && !policy.rsaPssClientKeys)
    return `the client certificate has an RSASSA-PSS key, which ${policy.name} cannot verify (no rsa_pss_pss signature scheme)`;
  return null;
}
