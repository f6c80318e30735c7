/**
 * "Would AWS accept this client?" for a command that is not `verify` (inspect): the trust
 * store and CRLs by the one revocation rule (io/ca/trust-crls.ts: the CA directory's bundle
 * brings its CRLs, --crl replaces them, --skip-crl is explicit), then the product's policy
 * (lib/alb/policy.ts) through the one verifier (lib/alb/verify.ts judgeChain; NLB's through
 * lib/nlb/identity-filter.ts with no filters, as `verify --target nlb`). The verdict, its
 * policy, where the CRLs came from and whether revocation was checked, as verify reports them.
 */
import {inputName, readInput} from '../io/files.js';
import {resolveTrustCrls, type TrustCrls} from '../io/ca/trust-crls.js';
import {judgeChain, type LoadedCrl, loadCrl, policyFor, loadTrustStore, type VerifyCheck, type VerifyFailureCode} from '../lib/alb/verify.js';
import {verifyNlbChain} from '../lib/nlb/identity-filter.js';
import type {ParsedCertificate} from '../lib/x509/cert.js';
import {formatRfc2253} from '../lib/x509/dn.js';
import {isoSeconds} from '../lib/x509/validity.js';

/** Products a chain verdict can be asked for (policy.ts). */
export type VerdictTarget = 'alb' | 'nlb' | 'apigw';

export interface ChainVerdictParams {
  /** The chain as a client would present it, leaf first. */
  chain: ParsedCertificate[];
  /** The CA directory (--dir): a trust store that is its ca-bundle.pem brings its CRLs. */
  dir: string;
  /** --trust-store (undefined: the directory's ca-bundle.pem). */
  trustStore?: string | undefined;
  crl?: string[] | undefined;
  skipCrl?: boolean | undefined;
  target: VerdictTarget;
  now: Date;
}

/** The verdict, as `verify --json` reports the same fields (docs/json.md "inspect"). */
export interface ChainVerdict {
  /** `Success` or `Failed:<code>`, as ALB logs it. */
  status: string;
  code: VerifyFailureCode | null;
  target: VerdictTarget;
  /** The policy's id (`alb-verify`, `nlb-verify`, `apigw`). */
  policy: string;
  /** False when the verdict was reached without revocation data for the client certificate ("revocation not checked"). */
  revocationChecked: boolean;
  /** Where the CRLs came from: --crl, the CA directory's, --skip-crl, or none (a foreign bundle, or a product that checks none). */
  crlSource: TrustCrls['source'];
  /** Warnings that belong next to the verdict (uncertain rules, revocation not checked). */
  warnings: string[];
  checks: VerifyCheck[];
  /** The path that was built, leaf first. */
  path: Array<{subject: string; serial: string}>;
  trustStore: string;
  crls: string[];
  at: string;
}

/**
 * Loads the trust material and judges `chain` by the target's policy.
 * @throws MtlsKitError when the trust store or a CRL cannot be read (exit 4), or is of another kind (exit 2).
 */
export async function runChainVerdict(p: ChainVerdictParams): Promise<ChainVerdict> {
  const policy = policyFor(p.target);
  const material = await resolveTrustCrls({dir: p.dir, trustStore: p.trustStore, crl: p.crl, skipCrl: p.skipCrl});
  // A product that never checks revocation (API Gateway) loads no CRL, whatever the directory holds.
  const crlFiles = policy.revocation.source === 'none' ? [] : material.crls;
  const trustFile = material.trustStore;
  const {store: trustStore, warnings: trustWarnings} = loadTrustStore(await readInput(trustFile), inputName(trustFile), `pass it with --crl ${trustFile}`);
  const crls: LoadedCrl[] = [];
  for (const f of crlFiles) crls.push(loadCrl(await readInput(f), inputName(f), {wanted: 'a CRL'}));
  const ctx = {trustStore, crls, at: p.now};
  const r = p.target === 'nlb' ? verifyNlbChain({...ctx, chain: p.chain, identityFilters: [], policy}) : judgeChain(p.chain, policy, ctx);
  return {
    status: r.status,
    code: r.code,
    target: p.target,
    policy: r.policy,
    revocationChecked: r.revocationChecked,
    crlSource: policy.revocation.source === 'none' ? 'none' : material.source,
    warnings: [...trustWarnings, ...r.warnings],
    checks: r.checks,
    path: r.path.map((c) => ({subject: formatRfc2253(c.subject), serial: c.serialHex})),
    trustStore: trustFile,
    crls: crlFiles,
    at: isoSeconds(p.now),
  };
}
