/**
 * One deploy at a time per trust store: a lease recorded as an S3 object next to the
 * uploads, `<prefix>locks/<trust store name>.json`, written with a conditional PutObject
 * (If-None-Match: *), so of two deploys that start at once only one holds it. The other
 * waits (bounded) and then reads the state again, so it plans from what the first one
 * left, never from what it read before.
 *
 * The owner is a random token written with the lease; host and pid are there for messages
 * only. The holder renews the lease (If-Match on its own ETag) every third of its lifetime
 * while it runs. Another deploy takes it over (If-Match on the ETag it read) only when it
 * expired, or when its owner is certainly gone: written from this very PID namespace of
 * this boot (same host, /proc/self/ns/pid and boot id), by a pid that no longer exists (a
 * run killed with SIGKILL). A pid from another PID namespace (a container on the same host
 * network, a CI runner) means nothing here, so such a lease is waited for until it expires.
 * A lease whose answer was lost is recognised by its owner token. Deploy runs that change
 * nothing take no lease. A CloudFront trust store's lease is `<prefix>locks/cloudfront/<name>.json`
 * (cloudfrontLeaseKey): an ALB trust store name has no `/`, so the two never share a key.
 */
import {randomBytes} from 'node:crypto';
import {readFileSync, readlinkSync} from 'node:fs';
import {hostname} from 'node:os';
import {setTimeout as sleep} from 'node:timers/promises';
import {keyPrefix} from '../../lib/deploy/plan.js';
import {ExitCode, MtlsKitError} from '../../lib/errors.js';
import {type AwsClients, awsErrorCode, mapAwsError} from './clients.js';
import {statObjects} from './trust-store-read.js';

export interface LeaseHolder {
  /** Random token: the only identity of the holder. */
  owner: string;
  host: string;
  pid: number;
  /** `<pid namespace>/<boot id>` where the pid means something (Linux); '' elsewhere. */
  pidScope?: string;
  started: string;
  expires: string;
}

let ownPidScope: string | undefined;
/** This process's PID namespace and boot: a pid is only checked where it means the same process. */
function pidScope(): string {
  if (ownPidScope === undefined) {
    try {
      ownPidScope = `${readlinkSync('/proc/self/ns/pid')}/${readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim()}`;
    } catch {
      ownPidScope = '';
    }
  }
  return ownPidScope;
}

export interface DeployLease {
  key: string;
  /** Whether another deploy held it first (the state must then be read again). */
  waited: boolean;
  /** Set when a renewal found the lease taken over (it expired while this run was stalled). */
  readonly lost: boolean;
  release(): Promise<void>;
}

export interface LeaseParams {
  bucket: string;
  prefix: string;
  trustStoreName: string;
  /** The lease object's key when it is not `leaseKey(prefix, trustStoreName)` (CloudFront: cloudfrontLeaseKey). */
  key?: string | undefined;
  /** How long the lease is valid if its holder stops renewing it (renewed every ttlMs / 3). */
  ttlMs: number;
  /** How long to wait for another deploy's lease. */
  waitMs: number;
  /** Pause between two tries while another deploy holds it (default 1 s). */
  pollMs?: number;
  /** Told once when another deploy holds the lease. */
  onWait?: (holder: LeaseHolder) => void;
  /** Told when a renewal finds the lease taken over. */
  onLost?: () => void;
  expectedBucketOwner?: string | undefined;
  /** Server-side encryption as for the uploads (a bucket policy may require it on every PUT). */
  sse?: 'aws:kms' | 'AES256' | undefined;
  kmsKeyId?: string | undefined;
}

/** The lease object's key: `<prefix>locks/<name>.json`. */
export function leaseKey(prefix: string, trustStoreName: string): string {
  return `${keyPrefix(prefix)}locks/${trustStoreName}.json`;
}

/** A CloudFront trust store's lease: `<prefix>locks/cloudfront/<name>.json`, apart from any ALB trust store's. */
export function cloudfrontLeaseKey(prefix: string, name: string): string {
  return `${keyPrefix(prefix)}locks/cloudfront/${name}.json`;
}

/**
 * destroy's view of a lease: the lease object at `key` when one is in the bucket (a run holds
 * it, or a killed run left it), else null. destroy lists it as a change, then takes it with
 * acquireDeployLease (a stale one is taken over, a live one waited for) and its release
 * deletes it. The ALB and CloudFront destroys both plan with this and leaseLeftUnder.
 */
export async function findLease(aws: AwsClients, bucket: string, key: string, expectedBucketOwner?: string): Promise<{key: string} | null> {
  const [o] = await statObjects(aws, bucket, [key], expectedBucketOwner);
  return o?.exists ? {key} : null;
}

/**
 * Under destroy's own lease the lease object is its own: the lease left over is the one
 * findLease saw before, unless destroy waited for a live holder (which then released it).
 */
export function leaseLeftUnder(lease: DeployLease, before: {key: string} | null): {key: string} | null {
  return lease.waited ? null : before;
}

/**
 * Takes the deploy lease of a trust store, waiting at most `waitMs` for another holder.
 * @throws MtlsKitError DEPLOY_LEASE_HELD (exit 4) when another deploy still holds it after
 *   `waitMs`, naming its host, pid and start time.
 */
export async function acquireDeployLease(aws: AwsClients, p: LeaseParams): Promise<DeployLease> {
  const key = p.key ?? leaseKey(p.prefix, p.trustStoreName);
  const owner = randomBytes(16).toString('hex');
  const deadline = Date.now() + p.waitMs;
  let waited = false;
  const started = new Date().toISOString();
  const body = (): LeaseHolder => ({
    owner,
    host: hostname(),
    pid: process.pid,
    pidScope: pidScope(),
    started,
    expires: new Date(Date.now() + p.ttlMs).toISOString(),
  });
  for (let round = 0; round < 100_000; round++) {
    let etag = await conditionalPut(aws, p, key, body(), {IfNoneMatch: '*'});
    const held = etag === false ? await readLease(aws, p, key) : undefined;
    if (etag === false) {
      if (!held) continue; // released in between: try again at once
      if (held.holder.owner === owner)
        etag = held.etag; // our own write, whose answer was lost
      else if (isStale(held.holder)) etag = await conditionalPut(aws, p, key, body(), {IfMatch: held.etag});
    }
    if (etag !== false) return holdLease(aws, p, key, owner, etag, waited, body);
    const h = held!.holder;
    if (Date.now() >= deadline) {
      throw new MtlsKitError({
        code: 'DEPLOY_LEASE_HELD',
        message: `another deploy of trust store ${p.trustStoreName} is running (pid ${h.pid} on ${h.host}, since ${h.started}); waited ${Math.round(p.waitMs / 1000)}s`,
        suggestions: [`re-run when it ends; if no deploy is running, the lease expires at ${h.expires}, or delete it: aws s3 rm s3://${p.bucket}/${key}`],
        exitCode: ExitCode.Precondition,
        details: {leaseKey: key, holder: h},
      });
    }
    if (!waited) p.onWait?.(h);
    waited = true;
    await sleep(Math.min(p.pollMs ?? 1000, Math.max(1, deadline - Date.now())));
  }
  throw new MtlsKitError({code: 'DEPLOY_LEASE_HELD', message: `could not take the deploy lease s3://${p.bucket}/${key}`, exitCode: ExitCode.Precondition});
}

/** A held lease: renewed every ttl/3 with If-Match on our own ETag until released. */
function holdLease(aws: AwsClients, p: LeaseParams, key: string, owner: string, firstEtag: string, waited: boolean, body: () => LeaseHolder): DeployLease {
  let etag = firstEtag;
  let lost = false;
  let renewing: Promise<void> = Promise.resolve();
  const timer = setInterval(
    () => {
      renewing = (async () => {
        if (lost) return;
        try {
          const next = await conditionalPut(aws, p, key, body(), {IfMatch: etag});
          if (next === false) {
            lost = true;
            clearInterval(timer);
            p.onLost?.();
          } else etag = next;
        } catch {
          // a failed renewal is retried at the next tick; the lease lasts ttlMs from the last one
        }
      })();
    },
    Math.max(10, Math.floor(p.ttlMs / 3)),
  );
  timer.unref();
  return {
    key,
    waited,
    get lost() {
      return lost;
    },
    release: async () => {
      clearInterval(timer);
      await renewing;
      if (!lost) await releaseLease(aws, p, key, owner);
    },
  };
}

/** PutObject with a condition: the new ETag, or false when the condition did not hold (412) or conflicted (409). */
async function conditionalPut(
  aws: AwsClients,
  p: LeaseParams,
  key: string,
  body: LeaseHolder,
  cond: {IfNoneMatch?: string; IfMatch?: string},
): Promise<string | false> {
  try {
    const r = await aws.s3.send(
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
    return r.ETag ?? '';
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

/** Expired, or written in this PID namespace of this boot on this host by a process that is gone. */
function isStale(h: LeaseHolder): boolean {
  const expires = Date.parse(h.expires);
  if (!(expires > Date.now())) return true;
  if (h.host !== hostname() || !(h.pid > 0) || !h.pidScope || h.pidScope !== pidScope()) return false;
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
