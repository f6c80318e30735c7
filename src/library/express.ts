/**
 * `mtls-kit/express`: middleware that verifies the client certificate ALB (or a proxy like
 * `mtls-kit serve`) put in the request headers and sets `req.mtls` to the verdict.
 * Express is a peer dependency: nothing here imports it (structural types only).
 */
import {type MiddlewareOptions, refusalFor} from './refusal.js';
import type {MtlsVerdict} from './verifier.js';

export type {MiddlewareOptions, RefusalBody} from './refusal.js';

// `req.mtls` on Express's Request for TypeScript users (@types/express merges its Request
// into this global namespace; without @types/express the declaration is inert).
declare global {
  namespace Express {
    interface Request {
      /** The verdict of mtls-kit's middleware (mtls-kit/express). */
      mtls?: MtlsVerdict;
    }
  }
}

/** What the middleware needs of Express's req and res. */
export interface ExpressRequestLike {
  rawHeaders: string[];
  mtls?: MtlsVerdict;
}
export interface ExpressResponseLike {
  status(code: number): {json(body: unknown): unknown};
}

/**
 * `app.use(mtls({verifier}))`: `req.mtls` holds the verdict; a failed one is answered
 * 403 `{"error", "status", "code", "why"}` unless `onRefused: 'continue'`.
 * Reads `req.rawHeaders`, so a duplicated mTLS header is seen (Node joins duplicates in `req.headers`).
 */
export function mtls(o: MiddlewareOptions): (req: ExpressRequestLike, res: ExpressResponseLike, next: (error?: unknown) => void) => void {
  return (req, res, next) => {
    let v: MtlsVerdict;
    try {
      v = o.verifier.verifyHeaders(req.rawHeaders);
    } catch (error) {
      next(error);
      return;
    }
    req.mtls = v;
    const body = refusalFor(v, o);
    if (body) res.status(403).json(body);
    else next();
  };
}
