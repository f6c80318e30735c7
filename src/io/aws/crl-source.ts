/**
 * CRL inputs of `deploy --crl`: a local file or `s3://bucket/key` (AWS Private CA publishes its
 * CRLs to S3 as DER, aws-reference 4.5), read by readFileOrS3 (src/io/aws/s3-input.ts, the
 * loader lint and inspect use too) and made PEM (src/lib/x509/crl-input.ts).
 */
import {crlInputToPem} from '../../lib/x509/crl-input.js';
import {readFileOrS3} from './s3-input.js';

/**
 * The CRL at `path` (readFileOrS3) as PEM, with the note to show when it was converted from DER.
 * @throws as readFileOrS3.
 */
export async function readCrlSource(path: string): Promise<{data: Buffer; notes: string[]}> {
  const r = crlInputToPem(await readFileOrS3(path));
  return {data: r.pem, notes: r.convertedFromDer ? [`${path} is a DER CRL; uploading it as PEM (ALB accepts only PEM)`] : []};
}
