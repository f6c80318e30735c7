/**
 * One deploy at a time per trust store: a lease recorded as an S3 object next to the
 * uploads, `<prefix>locks/<trust store name>.json`, written with a conditional PutObject
 * (If-None-Match: *), so of two deploys that start at once only one holds it. The other
 * waits (bounded) and then reads the state again, so it plans from what the first one
 * left, never from what it read before.
 *
 * A lease is stale, and taken over with If-Match on its ETag, when it expired (its run
 * took longer than the wait timeout plus ten minutes) or when it was written on this host
 * by a process that no longer exists (a run killed with SIGKILL). A lease whose answer was
 * lost is recognised by its owner id. Deploy runs that change nothing take no lease.
 */
import {randomUUID} from 'node:crypto';
import {hostname} from 'node:os';
import {setTimeout as sleep} from 'node:timers/promises';
import {keyPrefix} from '../../lib/deploy/plan.js';
import {ExitCode, MtlsKitError} from '../../lib/errors.js';
import {type AwsClients, awsErrorCode, mapAwsError} from './clients.js';

export interface LeaseHolder {
  owner: string;
  host: string;
  pid: number;
  started: string;
  expires: string;
}

export interface DeployLease {
  key: string;
  /** Whether another deploy held it first (the state must then be read again). */
  waited: boolean;
  release(): Promise<void>;
}

export interface LeaseParams {
  bucket: string;
  prefix: string;
  trustStoreName: string;
  /** How long the lease is valid if its holder never releases it. */
  ttlMs: number;
  /** How long to wait for another deploy's lease. */
  waitMs: number;
  /** Pause between two tries while another deploy holds it (default 1 s). */
  pollMs?: number;
  /** Told once when another deploy holds the lease. */
  onWait?: (holder: LeaseHolder) => void;
  expectedBucketOwner?: string | undefined;
  /** Server-side encryption as for the uploads (a bucket policy may require it on every PUT). */
  sse?: 'aws:kms' | 'AES256' | undefined;
  kmsKeyId?: string | undefined;
}

/** The lease object's key: `<prefix>locks/<name>.json`. */
export function leaseKey(prefix: string, trustStoreName: string): string {
  return `${keyPrefix(prefix)}locks/${trustStoreName}.json`;
}

/**
 * Takes the deploy lease of a trust store, waiting at most `waitMs` for another holder.
 * @throws MtlsKitError DEPLOY_LEASE_HELD (exit 4) when another deploy still holds it after
 *   `waitMs`, naming its host, pid and start time.
 */
export async function acquireDeployLease(aws: AwsClients, p: LeaseParams): Promise<DeployLease> {
  const key = leaseKey(p.prefix, p.trustStoreName);
  const owner = randomUUID();
  const deadline = Date.now() + p.waitMs;
  let waited = false;
  const lease = (): DeployLease => ({key, waited, release: () => releaseLease(aws, p, key, owner)});
  for (let round = 0; round < 100_000; round++) {
    const now = new Date();
    const body: LeaseHolder = {owner, host: hostname(), pid: process.pid, started: now.toISOString(), expires: new Date(now.getTime() + p.ttlMs).toISOString()};
    if (await conditionalPut(aws, p, key, body, {IfNoneMatch: '*'})) return lease();
    const held = await readLease(aws, p, key);
    if (!held) continue; // released in between: try again at once
    if (held.holder.owner === owner) return lease(); // our own write, whose answer was lost
    if (isStale(held.holder) && (await conditionalPut(aws, p, key, body, {IfMatch: held.etag}))) return lease();
    if (Date.now() >= deadline) {
      const h = held.holder;
      throw new MtlsKitError({
        code: 'DEPLOY_LEASE_HELD',
        message: `another deploy of trust store ${p.trustStoreName} is running (pid ${h.pid} on ${h.host}, since ${h.started}); waited ${Math.round(p.waitMs / 1000)}s`,
        suggestions: [`re-run when it ends; if no deploy is running, the lease expires at ${h.expires}, or delete it: aws s3 rm s3://${p.bucket}/${key}`],
        exitCode: ExitCode.Precondition,
        details: {leaseKey: key, holder: h},
      });
    }
    if (!waited) p.onWait?.(held.holder);
    waited = true;
    await sleep(Math.min(p.pollMs ?? 1000, Math.max(1, deadline - Date.now())));
  }
  throw new MtlsKitError({code: 'DEPLOY_LEASE_HELD', message: `could not take the deploy lease s3://${p.bucket}/${key}`, exitCode: ExitCode.Precondition});
}

/** PutObject with a condition; false when the condition did not hold (412) or conflicted (409). */
async function conditionalPut(
  aws: AwsClients,
  p: LeaseParams,
  key: string,
  body: LeaseHolder,
  cond: {IfNoneMatch?: string; IfMatch?: string},
): Promise<boolean> {
  try {
    await aws.s3.send(
      new aws.s3Sdk.PutObjectCommand({
        Bucket: p.bucket,
        Key: key,
        Body: JSON.stringify(body),
        ContentType: 'application/json',
        ...cond,
        ...(p.sse ? {ServerSideEncryption: p.sse} : {}),
        ...(p.sse === 'aws:kms' && p.kmsKeyId ? {SSEKMSKeyId: p.kmsKeyId} : {}),
        ...(p.expectedBucketOwner ? {ExpectedBucketOwner: p.expectedBucketOwner} : {}),
      }),
    );
    return true;
  } catch (error) {
    const status = (error as {$metadata?: {httpStatusCode?: number}}).$metadata?.httpStatusCode;
    if (status === 412 || status === 409 || ['PreconditionFailed', 'ConditionalRequestConflict'].includes(awsErrorCode(error))) return false;
    throw mapAwsError(error, {action: 's3:PutObject', resource: `s3://${p.bucket}/${key}`});
  }
}

async function readLease(aws: AwsClients, p: LeaseParams, key: string): Promise<{holder: LeaseHolder; etag: string} | undefined> {
  try {
    const r = await aws.s3.send(
      new aws.s3Sdk.GetObjectCommand({Bucket: p.bucket, Key: key, ...(p.expectedBucketOwner ? {ExpectedBucketOwner: p.expectedBucketOwner} : {})}),
    );
    const text = r.Body ? await r.Body.transformToString() : '';
    let holder: LeaseHolder;
    try {
      holder = JSON.parse(text) as LeaseHolder;
    } catch {
      holder = {owner: '', host: '', pid: 0, started: '', expires: new Date(0).toISOString()}; // unreadable: stale
    }
    return {holder, etag: r.ETag ?? ''};
  } catch (error) {
    if (awsErrorCode(error) === 'NoSuchKey') return undefined;
    throw mapAwsError(error, {action: 's3:GetObject', resource: `s3://${p.bucket}/${key}`});
  }
}

/** Expired, or written on this host by a process that is gone. */
function isStale(h: LeaseHolder): boolean {
  const expires = Date.parse(h.expires);
  if (!(expires > Date.now())) return true;
  if (h.host !== hostname() || !(h.pid > 0)) return false;
  try {
    process.kill(h.pid, 0);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

/** Deletes the lease when it is still ours. A failure only delays the next deploy until the lease is stale. */
async function releaseLease(aws: AwsClients, p: LeaseParams, key: string, owner: string): Promise<void> {
  try {
    const held = await readLease(aws, p, key);
    if (held?.holder.owner !== owner) return;
    await aws.s3.send(
      new aws.s3Sdk.DeleteObjectCommand({Bucket: p.bucket, Key: key, ...(p.expectedBucketOwner ? {ExpectedBucketOwner: p.expectedBucketOwner} : {})}),
    );
  } catch {
    // the lease expires, or the next run on this host takes it over (its pid is gone)
  }
}
