/**
 * `deploy --json`: the result shape shared by the command, the deploy runner (io) and its
 * renderer (ui), kept below all three so none imports a command.
 */
import type {MutualMode} from './plan.js';

export interface DeployResult {
  dryRun: boolean;
  region: string;
  bucket: string;
  /** True when this run made (or, with --dry-run, would make) a mutating call. */
  changed: boolean;
  /** "unchanged", or what changed in one line. */
  summary: string;
  lint: {errors: number; warnings: number; findings: Array<{severity: string; rule: string; file: string; message: string; fix: string}>};
  uploads: Array<{kind: 'bundle' | 'crl'; path: string; key: string; uri: string; action: 'upload' | 'unchanged'; versionId: string | null}>;
  trustStore: {action: 'create' | 'modify' | 'unchanged'; name: string; arn: string | null; status: string | null; numberOfCaCertificates: number | null; totalRevokedEntries: number | null; reason: string};
  revocations: {
    added: Array<{path: string; key: string; revocationId: number | null; entries: number; issuer: string; crlNumber: string | null}>;
    removed: Array<{revocationId: number; issuer: string; crlNumber: string | null; supersededBy: string}>;
    unchanged: Array<{path: string; revocationId: number}>;
    kept: number[];
  };
  listener: {
    action: 'create' | 'modify' | 'unchanged';
    arn: string | null;
    loadBalancerArn: string | null;
    mutualAuthentication: {mode: MutualMode; trustStoreArn: string | null; ignoreClientCertificateExpiry: boolean; advertiseTrustStoreCaNames: 'on' | 'off'};
    previous: {mode: MutualMode; trustStoreArn: string | null; ignoreClientCertificateExpiry: boolean; advertiseTrustStoreCaNames: 'on' | 'off'} | null;
  } | null;
}
