/**
 * Calls that change AWS state and are not idempotent (a second CreateTrustStore fails with
 * DuplicateTrustStoreName, a second AddTrustStoreRevocations holds the same CRL twice, a
 * second RemoveTrustStoreRevocations fails with RevocationIdNotFound). When such a call
 * fails in a way that may have happened after AWS carried it out (a timeout, a reset
 * connection, a 5xx, throttling), retrying blindly repeats the work. Here each failure is
 * followed by a read of the state; the call is retried only when the read says the work
 * is not done. Every deploy path (ALB, NLB, API Gateway) shares this.
 */
import {setTimeout as sleep} from 'node:timers/promises';
import type {MtlsKitError} from '../../lib/errors.js';
import {type AwsCallContext, awsErrorCode, mapAwsError} from './clients.js';

interface SdkErrorShape {
  name?: string;
  code?: string;
  $metadata?: {httpStatusCode?: number};
  $retryable?: unknown;
}

const THROTTLING = new Set([
  'Throttling',
  'ThrottlingException',
  'TooManyRequestsException',
  'SlowDown',
  'RequestLimitExceeded',
  'RequestThrottled',
  'PriorRequestNotComplete',
]);
const NETWORK = /ECONNRESET|ECONNREFUSED|EPIPE|ETIMEDOUT|socket hang up|TimeoutError|Timeout|premature close|aborted/i;

/** Whether a failure is one the SDK would retry: throttling, 5xx, a timeout or a broken connection. */
export function isRetryableAwsError(error: unknown): boolean {
  const e = error as SdkErrorShape;
  const code = awsErrorCode(error);
  if (THROTTLING.has(code) || THROTTLING.has(`${code}Exception`)) return true;
  const status = e.$metadata?.httpStatusCode;
  if (status !== undefined && (status >= 500 || status === 429)) return true;
  if (e.$retryable) return true;
  return NETWORK.test(`${e.name ?? ''} ${e.code ?? ''} ${(error as Error)?.message ?? ''}`);
}

export interface MutateParams<T> {
  ctx: AwsCallContext;
  /** Attempts in all (AwsClients.maxAttempts). */
  attempts: number;
  /** The call itself, on a client without SDK retries (AwsClients.elbv2Once). */
  send: () => Promise<T>;
  /**
   * Reads the state back after a failure: the result the call would have given when its
   * work is already done, else undefined (then the call is retried).
   */
  readBack: () => Promise<T | undefined>;
  /** Base of the exponential backoff between attempts (default 200 ms, with full jitter). */
  baseDelayMs?: number;
  /** Told each time an attempt failed and the state was read back. */
  onReadBack?: (attempt: number, done: boolean, error: MtlsKitError) => void;
}

/**
 * Runs a non-idempotent mutating call at most `attempts` times. After a retryable failure,
 * and after any failure of a retry (the first attempt may have done the work, so the retry
 * can fail with DuplicateTrustStoreName or RevocationIdNotFound), the state is read back and
 * the call is treated as done when it is. Bounded: `attempts` calls and `attempts - 1` reads.
 * @throws MtlsKitError the mapped error of the last attempt when the work is still not done.
 */
export async function mutateWithReadBack<T>(p: MutateParams<T>): Promise<T> {
  const base = p.baseDelayMs ?? 200;
  for (let attempt = 1; ; attempt++) {
    try {
      return await p.send();
    } catch (error) {
      const mapped = mapAwsError(error, p.ctx);
      if (attempt === 1 && !isRetryableAwsError(error)) throw mapped;
      const done = await p.readBack();
      p.onReadBack?.(attempt, done !== undefined, mapped);
      if (done !== undefined) return done;
      if (attempt >= p.attempts || !isRetryableAwsError(error)) throw mapped;
      await sleep(Math.random() * Math.min(20_000, base * 2 ** attempt));
    }
  }
}
