/**
 * `mtls-kit/hono`: middleware that verifies the client certificate in the request headers
 * and sets `c.get('mtls')` to the verdict. Hono is a peer dependency: nothing here imports it.
 * Fetch `Headers` join a repeated header into one value, so a duplicated mTLS header shows
 * as a malformed or mismatching one rather than DUPLICATE_HEADER.
 */
import {type MiddlewareOptions, refusalFor} from './refusal.js';
import type {MtlsVerdict} from './verifier.js';

export type {MiddlewareOptions, RefusalBody} from './refusal.js';

/** What the middleware needs of Hono's Context. */
export interface HonoContextLike {
  req: {raw: {headers: {forEach(cb: (value: string, name: string) => void): void}}};
  set(key: 'mtls', value: MtlsVerdict): void;
  json(body: unknown, status: 403): Response;
}

/** Hono's Variables for `new Hono<{Variables: MtlsVariables}>()`. */
export type MtlsVariables = {mtls: MtlsVerdict};

/** `app.use(mtls({verifier}))`: a failed verdict is answered 403 `{"error", "status", "code", "why"}` unless `onRefused: 'continue'`. */
export function mtls(o: MiddlewareOptions): (c: HonoContextLike, next: () => Promise<void>) => Promise<Response | undefined> {
  return async (c, next) => {
    const v = o.verifier.verifyHeaders(c.req.raw.headers);
    c.set('mtls', v);
    const body = refusalFor(v, o);
    if (body) return c.json(body, 403);
    await next();
    return undefined;
  };
}
