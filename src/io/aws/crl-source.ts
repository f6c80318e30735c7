/**
 * CRL inputs of `deploy --crl`: a local file or `s3://bucket/key` (AWS Private CA publishes its
 * CRLs to S3 as DER, aws-reference 4.5), read and made PEM (src/lib/x509/crl-input.ts).
 */
import type {Readable} from 'node:stream';
import {crlInputToPem} from '../../lib/x509/crl-input.js';
import {readInput} from '../files.js';

async function collect(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/**
 * The CRL at `path` as PEM, with the note to show when it was converted from DER.
 * @throws MtlsKitError INPUT_NOT_FOUND / BAD_S3_URL / AWS_S3.
 */
export async function readCrlSource(path: string): Promise<{data: Buffer; notes: string[]}> {
  let raw: Buffer;
  if (path.startsWith('s3://')) {
    const {createS3Reader, parseS3Url} = await import('./s3-read.js');
    const loc = parseS3Url(path);
    const s3 = await createS3Reader({});
    try {
      raw = await collect(await s3.open(loc.bucket, loc.prefix));
    } finally {
      s3.close();
    }
  } else raw = await readInput(path);
  const r = crlInputToPem(raw);
  return {data: r.pem, notes: r.convertedFromDer ? [`${path} is a DER CRL; uploading it as PEM (ALB accepts only PEM)`] : []};
}
