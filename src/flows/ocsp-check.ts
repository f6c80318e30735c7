/**
 * `ocsp --check`: CloudFront's OCSP check of a client chain (aws-reference 11.4) from the
 * command line. The path is built and judged by the shared verifier (ALB's rules stand in
 * until the CloudFront policy has its own path rules), then every certificate CloudFront
 * checks is asked of the responder its authorityInfoAccess names.
 */
import {readInput} from '../io/files.js';
import {postOcspRequest} from '../io/net/ocsp-client.js';
import {checkChainOcsp, extendToRoot, type OcspChainResult} from '../lib/cloudfront/policy.js';
import {readCertificates} from '../lib/x509/read-certs.js';
import {type OnProgress, report} from './progress.js';

export interface OcspCheckParams {
  chain: string;
  trustStore: string;
  now: Date;
  timeoutMs?: number;
  /** Where a warning about the trust store goes (a certificate in it that is not a CA). */
  onProgress?: OnProgress | undefined;
}

export interface OcspCheckResult {
  chain: string;
  trustStore: string;
  /** The path verdict before OCSP: `Success` or `Failed:<code>`. */
  path: {status: string; code: string | null; length: number};
  /** null when the path failed (nothing was asked). */
  ocsp: OcspChainResult | null;
  /** Path and OCSP both passed. */
  ok: boolean;
}

/**
 * Reads the chain and the trust store, verifies the path, then checks it by OCSP.
 * @throws MtlsKitError for files that are missing or hold no certificate (exit 4), of another kind (exit 2).
 */
export async function runOcspCheck(p: OcspCheckParams): Promise<OcspCheckResult> {
  const chain = readCertificates(await readInput(p.chain), p.chain, {wanted: 'a client certificate chain (leaf first)'});
  const {loadTrustStore, verifyChain} = await import('../lib/alb/verify.js');
  const {certs: anchors, store, warnings} = loadTrustStore(await readInput(p.trustStore), p.trustStore);
  for (const text of warnings) report(p.onProgress, {kind: 'warning', text});
  const v = verifyChain({chain, trustStore: store, at: p.now});
  const path = {status: v.status, code: v.code, length: v.path.length};
  if (v.code !== null) return {chain: p.chain, trustStore: p.trustStore, path, ocsp: null, ok: false};
  const ocsp = await checkChainOcsp({
    path: extendToRoot(v.path, anchors),
    fetch: (url, der) => postOcspRequest(url, der, {timeoutMs: p.timeoutMs ?? 5000}),
    now: p.now,
  });
  return {chain: p.chain, trustStore: p.trustStore, path, ocsp, ok: ocsp.ok};
}
