/**
 * The worker-thread half that gen-client --count and sign DIR share: the issuing CA handed
 * to the workers, the fleet protocol (io/ca/fleet.ts runRecordedFleet) and the progress
 * count through onProgress.
 */
import type {LoadedCa} from '../io/ca/directory.js';
import {defaultWorkers, type FleetJob, type FleetRunResult, type FleetShared, runRecordedFleet} from '../io/ca/fleet.js';
import type {ClientIssuer} from '../lib/pki/client-cert.js';
import {type OnProgress, report} from './progress.js';

export interface CaFleetParams {
  ca: LoadedCa;
  issuer: ClientIssuer;
  keyPkcs8Der: Uint8Array;
  jobs: FleetJob[];
  /** What the workers do besides the issuer: key type, days, time, force, PKCS#12, strip CA. */
  work: Omit<FleetShared, 'issuerCertDer' | 'issuerKeyPkcs8Der' | 'issuerSpec' | 'chainDers'>;
  workers: number | undefined;
  /** The progress count's label ('issuing', 'signing'). */
  label: string;
  onProgress: OnProgress | undefined;
}

/** Runs the jobs on worker threads under the fleet protocol, counting progress. */
export async function runCaFleet(p: CaFleetParams): Promise<FleetRunResult> {
  const shared: FleetShared = {
    issuerCertDer: p.ca.issuing.cert.der,
    issuerKeyPkcs8Der: p.keyPkcs8Der,
    issuerSpec: p.issuer.spec,
    chainDers: p.issuer.chain.map((c) => c.der),
    ...p.work,
  };
  let done = 0;
  const tick = (final: boolean): void => report(p.onProgress, {kind: 'count', label: p.label, done, total: p.jobs.length, final});
  const r = await runRecordedFleet(p.jobs, shared, {
    workers: p.workers ?? defaultWorkers(),
    indexPath: p.ca.issuing.paths.index,
    onProgress: (n) => {
      done += n;
      tick(false);
    },
  });
  tick(true);
  return r;
}
