/**
 * The result of `mtls-kit probe` (its --json shape), here below io and ui, which both use it.
 */

export interface ProbedCert {
  subject: string;
  issuer: string;
  serial: string;
  notAfter: string;
  daysLeft: number;
}

export interface ProbeResult {
  url: string;
  host: string;
  port: number;
  path: string;
  tls: {version: string | null; cipher: string | null};
  /** The server's chain as sent, leaf first. */
  serverChain: ProbedCert[];
  /** Whether the server chain verifies against --cacert (else Node's CA list) for the host. */
  serverTrusted: {ok: boolean; error: string | null};
  /** Whether the server sent a CertificateRequest; null when it could not be read. */
  clientCertRequested: boolean | null;
  /** The acceptable client CA names the server advertised (empty: none); null when unreadable. */
  advertisedCaNames: Array<{dn: string; inLocalBundle: boolean}> | null;
  caNamesSource: 'tls1.2-cleartext' | 'tls1.3-keylog-decrypted' | 'unavailable';
  /** The local bundle the names were matched against, and its CAs the server did not name. */
  localBundle: {file: string; notAdvertised: string[]} | null;
  /** The client certificate presented (--cert / --client), or null. */
  client: {file: string; subject: string; serial: string} | null;
  handshake: {outcome: 'accepted' | 'rejected'; alert: {code: number; name: string} | null; error: string | null};
  http: {status: number | null; statusText: string | null};
  /** mtls-kit verify on the presented chain against the local bundle: what ALB's verify mode would log. */
  offlineVerdict: {
    status: string;
    trustStore: string;
    /** The verification policy (`alb-verify`, `nlb-verify`, `apigw`). */
    policy: string;
    /** The CRLs checked (io/ca/trust-crls.ts: the CA directory's bundle brings its CRLs). */
    crls: string[];
    /** False: the verdict was reached without revocation data ("revocation not checked"). */
    revocationChecked: boolean;
  } | null;
  next: string | null;
}
