/**
 * The one place where src/library calls the verifier and the header decoder of src/lib.
 * Issue 21 turns the verifier into a policy-per-product API; when it lands, only this file
 * changes (the product picks the policy here), and every middleware follows.
 */
import {decodeHeaderSet, type DecodedHeaderSet, type HeaderField, type HeaderMap} from '../lib/alb/headers.js';
import {readHeaderInput} from '../lib/alb/header-input.js';
import {loadCrl, type LoadedCrl, type LoadedTrustStore, loadTrustStore, type TrustStore, verifyChain, type VerifyChainResult} from '../lib/alb/verify.js';
import type {ParsedCertificate} from '../lib/x509/cert.js';

export type {DecodedHeaderSet, HeaderField, HeaderMap, LoadedCrl, ParsedCertificate, TrustStore, VerifyChainResult};

/** The products whose headers the library reads (NLB is TCP: no headers). */
export type Product = 'alb' | 'alb-passthrough' | 'apigw';

/** Decodes one request's headers exactly as `decode-header` does (lib/alb/headers.ts). */
export function decodeRequestHeaders(fields: HeaderField[], map: HeaderMap | undefined): DecodedHeaderSet | undefined {
  return decodeHeaderSet(fields, map ? {map} : {});
}

/**
 * The header sets of a Lambda event, read as `decode-header` reads an event file
 * (lib/alb/header-input.ts). Only the parts it reads are passed on (never the body, which
 * can be megabytes).
 */
export function eventHeaderSets(event: unknown, map: HeaderMap | undefined): HeaderField[][] {
  if (typeof event !== 'object' || event === null || Array.isArray(event)) return [];
  const e = event as Record<string, unknown>;
  const parts = {requestContext: e.requestContext, headers: e.headers, multiValueHeaders: e.multiValueHeaders};
  return readHeaderInput(JSON.stringify(parts), 'the Lambda event', map).sets;
}

/** A trust store from a CA bundle's bytes (PEM or DER), as `verify --trust-store` reads it, with its warnings (a certificate that is not a CA). */
export function trustStoreFrom(data: Uint8Array, source: string): LoadedTrustStore {
  return loadTrustStore(data, source, `pass it in crls, not trustStore: ${source}`);
}

/** A CRL from its bytes (PEM or DER), as `verify --crl` reads it. */
export function crlFrom(data: Uint8Array, source: string): LoadedCrl {
  return loadCrl(data, source);
}

export interface JudgeParams {
  product: Product;
  chain: ParsedCertificate[];
  trustStore: TrustStore;
  crls: LoadedCrl[];
  at: Date;
  ignoreExpiry: boolean;
}

/**
 * The verdict on a presented chain, exactly as `mtls-kit verify` gives it. Today every
 * product is judged with ALB's rules (lib/alb/verify.ts verifyChain); issue 21's policy per
 * product plugs in here.
 */
export function judgeChain(p: JudgeParams): VerifyChainResult {
  return verifyChain({chain: p.chain, trustStore: p.trustStore, crls: p.crls, at: p.at, ignoreExpiry: p.ignoreExpiry});
}
