/** What every middleware does with a verdict: the options they share and the 403 body. */
import type {MtlsVerdict, Verifier} from './verifier.js';

export interface MiddlewareOptions {
  verifier: Verifier;
  /**
   * `reject` (default): a failed verdict ends the request with 403 and a JSON body naming
   * the code. `continue`: the request goes on with the verdict attached; the application decides.
   */
  onRefused?: 'reject' | 'continue';
}

/** The 403 body: `{"error": "client certificate refused", "status": "Failed:<Code>", "code", "why"}`. */
export interface RefusalBody {
  error: 'client certificate refused';
  status: MtlsVerdict['status'];
  code: NonNullable<MtlsVerdict['code']>;
  why: string | null;
}

/** The 403 body for a failed verdict; undefined when the request goes on (Success, or onRefused: continue). */
export function refusalFor(v: MtlsVerdict, o: MiddlewareOptions): RefusalBody | undefined {
  if (v.code === null || o.onRefused === 'continue') return undefined;
  return {error: 'client certificate refused', status: v.status, code: v.code, why: v.why};
}
