/**
 * A small S3 server with bucket versioning, for the API Gateway deploy tests: s3rver (the
 * other S3 stand-in here) answers NotImplemented to versioning, and API Gateway needs a
 * truststore object version (aws-reference 4.4). In memory, path-style, 127.0.0.1, port 0.
 * Signatures are not checked. It speaks the REST-XML protocol the SDK expects for:
 *
 * - HeadBucket; Get/PutBucketVersioning (`?versioning`: Enabled / Suspended; a bucket starts
 *   unversioned, GetBucketVersioning then has no Status)
 *   https://docs.aws.amazon.com/AmazonS3/latest/userguide/Versioning.html
 * - PutObject: in a versioned bucket every PUT adds a version with a new VersionId
 *   (`x-amz-version-id`), the newest is current; unversioned buckets overwrite (no version id)
 *   https://docs.aws.amazon.com/AmazonS3/latest/userguide/AddingObjectstoVersioningEnabledBuckets.html
 * - GetObject / HeadObject, `?versionId=` for a specific version; `x-amz-meta-*` metadata and
 *   the MD5 ETag kept; errors NoSuchBucket, NoSuchKey, NoSuchVersion (404), InvalidArgument
 *   for a malformed version id (400); HEAD errors have no body
 *   https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObject.html
 * - DeleteObject: in a versioned bucket a delete without a version id adds a delete marker
 *   (`x-amz-delete-marker: true`) and keeps every earlier version; with `?versionId=` it
 *   removes that version; unversioned buckets remove the object. A key whose newest version
 *   is a delete marker reads as NoSuchKey
 *   https://docs.aws.amazon.com/AmazonS3/latest/userguide/DeletingObjectVersions.html
 * - ListObjectsV2 (`?list-type=2&prefix=`, one page): the keys whose newest version is not a
 *   delete marker
 *   https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListObjectsV2.html
 *
 * - CreateBucket (PUT on a bucket; BucketAlreadyOwnedByYou when it exists), so `aws s3 mb` works
 *   https://docs.aws.amazon.com/AmazonS3/latest/API/API_CreateBucket.html
 * - conditional PutObject: `If-None-Match: *` only when the key does not exist, `If-Match: <etag>`
 *   only when it holds that version, else 412 PreconditionFailed (deploy's lease)
 *   https://docs.aws.amazon.com/AmazonS3/latest/userguide/conditional-writes.html
 * - Get/Put/DeleteBucketPolicy (`?policy`: the JSON as the body; 400 MalformedPolicy for a body
 *   that is not a JSON object with Statement, 404 NoSuchBucketPolicy when there is none)
 *   https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetBucketPolicy.html
 *
 * `requests` records every call (`signed`: it carried a SigV4 Authorization header, so a client
 * made it, not the other emulators reading objects); `objectVersions(bucket, key)` lists what a
 * key holds.
 */
import {createHash, randomBytes} from 'node:crypto';
import type {IncomingMessage, ServerResponse} from 'node:http';
import {HttpStandIn} from './http-stand-in.js';

interface Version {
  versionId: string | null;
  data: Buffer;
  etag: string;
  metadata: Record<string, string>;
  contentType: string;
  lastModified: Date;
  /** A delete marker: the key reads as missing while it is the newest version. */
  deleteMarker?: boolean;
}

interface Bucket {
  versioning: 'Enabled' | 'Suspended' | null;
  /** The bucket policy JSON, as PutBucketPolicy stored it. */
  policy?: string;
  /** key → versions, oldest first. */
  objects: Map<string, Version[]>;
}

const XMLNS = 'http://s3.amazonaws.com/doc/2006-03-01/';

export class VersionedS3 extends HttpStandIn {
  readonly buckets = new Map<string, Bucket>();
  readonly requests: Array<{method: string; path: string; query: string; signed: boolean; headers: IncomingMessage['headers']}> = [];

  constructor(buckets: Array<{name: string; versioning?: 'Enabled' | 'Suspended' | null}>) {
    super();
    for (const b of buckets) this.buckets.set(b.name, {versioning: b.versioning ?? null, objects: new Map()});
  }

  /** Creates a bucket directly (setup), as CreateBucket would. */
  addBucket(name: string, versioning: 'Enabled' | 'Suspended' | null = null): void {
    if (!this.buckets.has(name)) this.buckets.set(name, {versioning, objects: new Map()});
  }

  /** Every version of a key, oldest first. */
  objectVersions(bucket: string, key: string): Version[] {
    return this.buckets.get(bucket)?.objects.get(key) ?? [];
  }

  /** Puts an object directly (test setup), as PutObject would. */
  putDirect(bucket: string, key: string, data: string | Buffer): string | null {
    return this.store(this.buckets.get(bucket)!, key, Buffer.from(data), {}, 'application/octet-stream').versionId;
  }

  private store(b: Bucket, key: string, data: Buffer, metadata: Record<string, string>, contentType: string): Version {
    const v: Version = {
      versionId: b.versioning === 'Enabled' ? randomBytes(24).toString('base64url') : null,
      data,
      etag: `"${createHash('md5').update(data).digest('hex')}"`,
      metadata,
      contentType,
      lastModified: new Date(),
    };
    const list = b.objects.get(key) ?? [];
    // Unversioned (or suspended) buckets replace the null version.
    const kept = v.versionId === null ? list.filter((x) => x.versionId !== null) : list;
    kept.push(v);
    b.objects.set(key, kept);
    return v;
  }

  protected async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks);
    const u = new URL(req.url ?? '/', 'http://x');
    this.requests.push({
      method: req.method ?? 'GET',
      path: u.pathname,
      query: u.search,
      signed: /^AWS4-HMAC-SHA256 /.test(req.headers.authorization ?? ''),
      headers: req.headers,
    });
    const [bucketName, ...rest] = u.pathname.slice(1).split('/');
    const key = rest.map((s) => decodeURIComponent(s)).join('/');
    const head = req.method === 'HEAD';
    const error = (status: number, code: string, message: string): void => {
      const xml = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message><RequestId>${randomBytes(8).toString('hex')}</RequestId></Error>`;
      res.writeHead(status, {'content-type': 'application/xml', 'x-amz-request-id': randomBytes(8).toString('hex')});
      res.end(head ? undefined : xml);
    };
    const name = decodeURIComponent(bucketName ?? '');
    if (!key && req.method === 'PUT' && u.search === '') {
      if (this.buckets.has(name))
        return error(409, 'BucketAlreadyOwnedByYou', 'Your previous request to create the named bucket succeeded and you already own it.');
      if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(name)) return error(400, 'InvalidBucketName', 'The specified bucket is not valid.');
      this.addBucket(name);
      res.writeHead(200, {location: `/${name}`});
      return void res.end();
    }
    const b = this.buckets.get(name);
    if (!b) return error(404, 'NoSuchBucket', 'The specified bucket does not exist');
    if (!key && u.searchParams.has('policy')) {
      if (req.method === 'GET') {
        if (b.policy === undefined) return error(404, 'NoSuchBucketPolicy', 'The bucket policy does not exist');
        res.writeHead(200, {'content-type': 'application/json'});
        return void res.end(b.policy);
      }
      if (req.method === 'DELETE') {
        delete b.policy;
        res.writeHead(204);
        return void res.end();
      }
      if (req.method === 'PUT') {
        let doc: unknown;
        try {
          doc = JSON.parse(body.toString('utf8'));
        } catch {
          return error(400, 'MalformedPolicy', "Policies must be valid JSON and the first byte must be '{'");
        }
        if (typeof doc !== 'object' || doc === null || !('Statement' in doc)) return error(400, 'MalformedPolicy', 'Missing required field Statement');
        b.policy = body.toString('utf8');
        res.writeHead(204);
        return void res.end();
      }
    }
    if (!key) {
      if (u.searchParams.has('versioning')) {
        if (req.method === 'PUT') {
          const status = /<Status>(Enabled|Suspended)<\/Status>/.exec(body.toString())?.[1] as 'Enabled' | 'Suspended' | undefined;
          if (!status) return error(400, 'MalformedXML', 'The XML you provided was not well-formed');
          b.versioning = status;
          res.writeHead(200);
          return void res.end();
        }
        res.writeHead(200, {'content-type': 'application/xml'});
        return void res.end(
          `<?xml version="1.0" encoding="UTF-8"?>\n<VersioningConfiguration xmlns="${XMLNS}">${b.versioning ? `<Status>${b.versioning}</Status>` : ''}</VersioningConfiguration>`,
        );
      }
      if (head) {
        res.writeHead(200);
        return void res.end();
      }
      if (req.method === 'GET' && u.searchParams.get('list-type') === '2') {
        const prefix = u.searchParams.get('prefix') ?? '';
        const live = [...b.objects]
          .filter(([k, vs]) => k.startsWith(prefix) && vs.length > 0 && !vs[vs.length - 1]!.deleteMarker)
          .sort(([x], [y]) => (x < y ? -1 : 1));
        const esc = (t: string): string => t.replace(/&/g, '&amp;').replace(/</g, '&lt;');
        const contents = live.map(([k, vs]) => {
          const v = vs[vs.length - 1]!;
          return `<Contents><Key>${esc(k)}</Key><LastModified>${v.lastModified.toISOString()}</LastModified><ETag>${esc(v.etag)}</ETag><Size>${v.data.length}</Size><StorageClass>STANDARD</StorageClass></Contents>`;
        });
        res.writeHead(200, {'content-type': 'application/xml'});
        return void res.end(
          `<?xml version="1.0" encoding="UTF-8"?>\n<ListBucketResult xmlns="${XMLNS}"><Name>${esc(bucketName ?? '')}</Name><Prefix>${esc(prefix)}</Prefix><KeyCount>${live.length}</KeyCount><MaxKeys>1000</MaxKeys><IsTruncated>false</IsTruncated>${contents.join('')}</ListBucketResult>`,
        );
      }
      return error(501, 'NotImplemented', 'only HeadBucket, ListObjectsV2 and versioning are implemented on buckets');
    }
    if (req.method === 'PUT' && u.searchParams.has('tagging')) {
      // PutObjectTagging: accepted, not kept (nothing here reads object tags).
      res.writeHead(200);
      return void res.end();
    }
    if (req.method === 'PUT') {
      const current = this.objectVersions(name, key).at(-1);
      const live = current && !current.deleteMarker ? current : undefined;
      const noneMatch = req.headers['if-none-match'];
      const match = req.headers['if-match'];
      if ((noneMatch === '*' && live) || (typeof match === 'string' && live?.etag.replace(/"/g, '') !== match.replace(/"/g, '')))
        return error(412, 'PreconditionFailed', 'At least one of the pre-conditions you specified did not hold');
      const metadata: Record<string, string> = {};
      for (const [k, v] of Object.entries(req.headers)) if (k.startsWith('x-amz-meta-') && typeof v === 'string') metadata[k.slice(11)] = v;
      const v = this.store(b, key, body, metadata, String(req.headers['content-type'] ?? 'binary/octet-stream'));
      res.writeHead(200, {etag: v.etag, ...(v.versionId ? {'x-amz-version-id': v.versionId} : {})});
      return void res.end();
    }
    const versions = b.objects.get(key) ?? [];
    const wanted = u.searchParams.get('versionId');
    if (req.method === 'DELETE') {
      if (wanted !== null) {
        b.objects.set(
          key,
          versions.filter((x) => (x.versionId ?? 'null') !== wanted),
        );
        res.writeHead(204, {'x-amz-version-id': wanted});
        return void res.end();
      }
      if (b.versioning === null) {
        b.objects.delete(key);
        res.writeHead(204);
        return void res.end();
      }
      const marker = this.store(b, key, Buffer.alloc(0), {}, '');
      marker.deleteMarker = true;
      res.writeHead(204, {'x-amz-delete-marker': 'true', ...(marker.versionId ? {'x-amz-version-id': marker.versionId} : {})});
      return void res.end();
    }
    if (req.method !== 'GET' && !head) return error(501, 'NotImplemented', `${req.method} is not implemented`);
    let v: Version | undefined;
    if (wanted !== null) {
      if (wanted !== 'null' && !/^[A-Za-z0-9_.-]{1,1024}$/.test(wanted)) return error(400, 'InvalidArgument', 'Invalid version id specified');
      v = versions.find((x) => (x.versionId ?? 'null') === wanted);
      if (!v) return error(404, 'NoSuchVersion', 'The specified version does not exist.');
    } else {
      v = versions[versions.length - 1];
      if (!v || v.deleteMarker) return error(404, 'NoSuchKey', 'The specified key does not exist.');
    }
    const headers: Record<string, string> = {
      'content-type': v.contentType,
      'content-length': String(v.data.length),
      etag: v.etag,
      'last-modified': v.lastModified.toUTCString(),
      ...(v.versionId ? {'x-amz-version-id': v.versionId} : {}),
    };
    for (const [k, val] of Object.entries(v.metadata)) headers[`x-amz-meta-${k}`] = val;
    res.writeHead(200, headers);
    res.end(head ? undefined : v.data);
  }
}
