/**
 * The non-idempotent trust-store and listener calls of deploy, each with its read-back
 * (aws-retry.ts): CreateTrustStore, AddTrustStoreRevocations, RemoveTrustStoreRevocations
 * and CreateListener are sent once per attempt on the client without SDK retries, and
 * after a failure the state is read to learn whether AWS carried the call out.
 */
import {summarizeCrl} from '../../lib/deploy/crl-summary.js';
import {type AwsCallContext, type AwsClients, callAws, fetchLocation} from './clients.js';
import {mutateWithReadBack} from './retry.js';
import {describeTrustStore, findListenerOnPort, readHeldRevocations, type TrustStoreSummary} from './trust-store-read.js';

type CreateTrustStoreInput = ConstructorParameters<AwsClients['elbv2Sdk']['CreateTrustStoreCommand']>[0];
type CreateListenerInput = ConstructorParameters<AwsClients['elbv2Sdk']['CreateListenerCommand']>[0];

/**
 * CreateTrustStore; after a lost answer (or DuplicateTrustStoreName on a retry) the trust
 * store found by name is the result.
 */
export async function createTrustStore(aws: AwsClients, input: CreateTrustStoreInput & {Name: string}, file: string): Promise<TrustStoreSummary> {
  const ctx: AwsCallContext = {action: 'elasticloadbalancing:CreateTrustStore', resource: input.Name, file};
  return mutateWithReadBack({
    ctx,
    attempts: aws.maxAttempts,
    send: async () => {
      const r = await aws.elbv2Once.send(new aws.elbv2Sdk.CreateTrustStoreCommand(input));
      const t = r.TrustStores?.[0];
      return {
        arn: t?.TrustStoreArn ?? '',
        name: t?.Name ?? input.Name,
        status: t?.Status ?? 'UNKNOWN',
        numberOfCaCertificates: t?.NumberOfCaCertificates ?? 0,
        totalRevokedEntries: t?.TotalRevokedEntries ?? 0,
      };
    },
    readBack: async () => (await describeTrustStore(aws, input.Name)) ?? undefined,
  });
}

export interface AddRevocationParams {
  arn: string;
  bucket: string;
  key: string;
  version?: string | undefined;
  /** The local CRL file (for messages). */
  path: string;
  /** CrlSummary.sha256 of the local CRL: how its copy is recognised when reading back. */
  crlSha256: string;
  /** Revocation ids the trust store held before this call (a match among them is not ours). */
  knownIds: ReadonlySet<number>;
}

/**
 * AddTrustStoreRevocations of one CRL; returns its revocation id. After a failure, a list
 * that appeared since `knownIds` and holds this CRL means the call was carried out: it is
 * not added a second time.
 */
export async function addRevocation(aws: AwsClients, p: AddRevocationParams): Promise<number | null> {
  const ctx: AwsCallContext = {action: 'elasticloadbalancing:AddTrustStoreRevocations', resource: `s3://${p.bucket}/${p.key}`, file: p.path};
  return mutateWithReadBack<number | null>({
    ctx,
    attempts: aws.maxAttempts,
    send: async () => {
      const r = await aws.elbv2Once.send(
        new aws.elbv2Sdk.AddTrustStoreRevocationsCommand({
          TrustStoreArn: p.arn,
          RevocationContents: [{S3Bucket: p.bucket, S3Key: p.key, RevocationType: 'CRL', ...(p.version ? {S3ObjectVersion: p.version} : {})}],
        }),
      );
      return r.TrustStoreRevocations?.[0]?.RevocationId ?? null;
    },
    readBack: async () => {
      for (const rev of await readHeldRevocations(aws, p.arn, false)) {
        if (p.knownIds.has(rev.revocationId)) continue;
        if ((await heldCrlSha256(aws, p.arn, rev.revocationId)) === p.crlSha256) return rev.revocationId;
      }
      return undefined;
    },
  });
}

async function heldCrlSha256(aws: AwsClients, arn: string, revocationId: number): Promise<string | null> {
  const g = await callAws({action: 'elasticloadbalancing:GetTrustStoreRevocationContent', resource: `${arn} revocation ${revocationId}`}, () =>
    aws.elbv2.send(new aws.elbv2Sdk.GetTrustStoreRevocationContentCommand({TrustStoreArn: arn, RevocationId: revocationId})),
  );
  if (!g.Location) return null;
  try {
    return summarizeCrl(await fetchLocation(g.Location, `revocation ${revocationId} of ${arn}`), `revocation ${revocationId}`).sha256;
  } catch {
    return null;
  }
}

/**
 * RemoveTrustStoreRevocations; after a failure only the ids still held are sent again, and
 * none left means done (RevocationIdNotFound on a retry is then not an error).
 */
export async function removeRevocations(aws: AwsClients, arn: string, ids: number[]): Promise<void> {
  let pending = [...ids];
  await mutateWithReadBack<true>({
    ctx: {action: 'elasticloadbalancing:RemoveTrustStoreRevocations', resource: `${arn} revocation id${ids.length === 1 ? '' : 's'} ${ids.join(', ')}`},
    attempts: aws.maxAttempts,
    send: async () => {
      await aws.elbv2Once.send(new aws.elbv2Sdk.RemoveTrustStoreRevocationsCommand({TrustStoreArn: arn, RevocationIds: pending}));
      return true;
    },
    readBack: async () => {
      const held = new Set((await readHeldRevocations(aws, arn, false)).map((r) => r.revocationId));
      pending = pending.filter((id) => held.has(id));
      return pending.length === 0 ? true : undefined;
    },
  });
}

/** CreateListener; after a failure, a listener on that port of the load balancer is the result. */
export async function createListener(
  aws: AwsClients,
  input: CreateListenerInput & {LoadBalancerArn: string; Port: number},
  ctx: AwsCallContext,
): Promise<string | null> {
  return mutateWithReadBack<string | null>({
    ctx,
    attempts: aws.maxAttempts,
    send: async () => (await aws.elbv2Once.send(new aws.elbv2Sdk.CreateListenerCommand(input))).Listeners?.[0]?.ListenerArn ?? null,
    readBack: async () => (await findListenerOnPort(aws, input.LoadBalancerArn, input.Port))?.arn,
  });
}
