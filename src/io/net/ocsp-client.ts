/**
 * Asks an OCSP responder over HTTP (RFC 6960 A.1, POST application/ocsp-request) and returns
 * the response bytes. Bounded: a timeout and a maximum response size.
 */

/** Largest response read (a signed answer with one certificate is a few KB). */
const MAX_RESPONSE_BYTES = 1024 * 1024;

/**
 * POSTs an OCSP request to `url`.
 * @returns the response body (an OCSPResponse to parse with lib/x509/ocsp.ts)
 * @throws Error naming the URL: unreachable, timed out, an HTTP status other than 200, or too large.
 */
export async function postOcspRequest(url: string, requestDer: Uint8Array, opts: {timeoutMs?: number} = {}): Promise<Uint8Array> {
  let res: Response;
  try {
    res = await fetch(url, {
      method: 'POST',
      headers: {'content-type': 'application/ocsp-request', accept: 'application/ocsp-response'},
      body: Buffer.from(requestDer),
      signal: AbortSignal.timeout(opts.timeoutMs ?? 5000),
    });
  } catch (error) {
    const e = error as Error & {cause?: {code?: string}};
    throw new Error(`OCSP responder ${url} did not answer (${e.name === 'TimeoutError' ? 'timed out' : (e.cause?.code ?? e.message)})`);
  }
  if (res.status !== 200) throw new Error(`OCSP responder ${url} answered HTTP ${res.status}`);
  if (Number(res.headers.get('content-length') ?? 0) > MAX_RESPONSE_BYTES) throw new Error(`OCSP responder ${url} sent more than an OCSP response`);
  const body = new Uint8Array(await res.arrayBuffer());
  if (body.length > MAX_RESPONSE_BYTES) throw new Error(`OCSP responder ${url} sent ${body.length} bytes, more than an OCSP response`);
  return body;
}
