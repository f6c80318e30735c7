/**
 * The CloudFront part of `serve` (`--listen PORT:cloudfront[:MODE]`): wires CloudFront's
 * verdict (lib/cloudfront/verify.ts: the path, then OCSP asked of the responders in the
 * certificates, answers cached as CloudFront caches them, aws-reference 11.4) into the local
 * edge (io/net/cloudfront-listener.ts). startServe (flows/serve.ts) calls it beside the ALB
 * and API Gateway listeners.
 */
import {type CloudFrontListenerSpec, type RunningCloudFrontListener, startCloudFrontEdge} from '../io/net/cloudfront-listener.js';
import {postOcspRequest} from '../io/net/ocsp-client.js';
import type {ListenerSpec} from '../lib/alb/proxy.js';
import type {TrustStore} from '../lib/alb/verify.js';
import type {OcspCache} from '../lib/cloudfront/policy.js';
import {judgeCloudFrontChain} from '../lib/cloudfront/verify.js';

/** How long the edge waits for one OCSP responder (CloudFront's timeout is not documented; our choice). */
export const EDGE_OCSP_TIMEOUT_MS = 5000;

export interface CloudFrontServeOptions {
  /** The trust store's OCSP off (UseClientCertificateOCSPEndpoint false): revocation not checked. */
  skipOcsp: boolean;
}

export interface CloudFrontServeParams {
  host: string;
  specs: ListenerSpec[];
  certPem: string;
  keyPem: string;
  /** The live trust store (reloaded when its file changes). */
  trustStore: () => TrustStore;
  ignoreExpiry: boolean;
  options: CloudFrontServeOptions;
  target: URL;
  advertiseCaPem?: string;
  log: (line: string) => void;
  onError?: (message: string) => void;
  onSpoof?: (message: string) => void;
}

/** Starts the CloudFront listeners. @throws MtlsKitError PORT_IN_USE (exit 4). */
export async function startCloudFrontServe(p: CloudFrontServeParams): Promise<{
  listeners: RunningCloudFrontListener[];
  stats(): {connections: number; tappedBytes: number; work: number};
  close(): Promise<void>;
}> {
  const cache: OcspCache = new Map();
  const listeners: CloudFrontListenerSpec[] = p.specs.map((s) => ({port: s.port, mode: s.viewerMtlsMode ?? 'required'}));
  return startCloudFrontEdge({
    host: p.host,
    listeners,
    certPem: p.certPem,
    keyPem: p.keyPem,
    judge: (chain) =>
      judgeCloudFrontChain(chain, {
        trustStore: p.trustStore(),
        at: new Date(),
        ignoreExpiry: p.ignoreExpiry,
        ocsp: p.options.skipOcsp
          ? {kind: 'off', why: '--skip-ocsp (the trust store has OCSP off)'}
          : {kind: 'query', fetch: (url, der) => postOcspRequest(url, der, {timeoutMs: EDGE_OCSP_TIMEOUT_MS}), cache},
      }),
    target: p.target,
    ...(p.advertiseCaPem ? {advertiseCaPem: p.advertiseCaPem} : {}),
    log: p.log,
    ...(p.onError ? {onError: p.onError} : {}),
    ...(p.onSpoof ? {onSpoof: p.onSpoof} : {}),
  });
}
