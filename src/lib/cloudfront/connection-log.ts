/**
 * CloudFront's connection-log record (aws-reference 11.7, `CF-connlogs`
 * https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/connection-logs.html):
 * one record per TLS connection attempt on an mTLS distribution, with the fields AWS lists,
 * in its order. CloudFront delivers them as JSON, Plain, w3c, Raw or Parquet; the local edge
 * writes JSON, one record per line. Where the page is silent (values of absent fields, the
 * timestamp's type), the choices are here, each marked UNCONFIRMED in aws-reference 11.7.
 */
import type {ParsedCertificate} from '../x509/cert.js';
import {formatCloudFrontLogDn} from '../x509/dn.js';
import {formatSerialColonHexDer} from '../x509/serial.js';
import {formatAlbValidity} from '../x509/validity.js';

/** The fields, in AWS's order. */
export interface CloudFrontConnectionLogRecord {
  /**
   * When the connection was established or failed. The page calls it ISO 8601 and shows
   * `1731620046814` (epoch milliseconds): the example's form is written (UNCONFIRMED).
   */
  eventTimestamp: number;
  /** Unique per connection (AWS's example: 56 characters of URL-safe base64 with padding). */
  connectionId: string;
  /** `Success` or `Failed:<code>` (the page's field says Success/Failed, its code list `Failed:<code>`). */
  connectionStatus: string;
  clientIp: string;
  clientPort: number;
  serverIp: string;
  distributionId: string;
  /** Only for multi-tenant distributions; `-` here. */
  distributionTenantId: string;
  tlsProtocol: string;
  tlsCipher: string;
  /** Milliseconds (AWS's example: 153); `-` when the handshake did not complete. */
  tlsHandshakeDuration: number | '-';
  tlsSni: string;
  /** Lower-case colon hex of the DER INTEGER's octets, the 00 sign byte kept (AWS's example `00:b1:43:ed:93:d2:d8:f3:9d`). */
  clientLeafCertSerialNumber: string;
  /** Forward order joined by `, ` (AWS's example `C=US, ST=WA, ..., CN=client.test.mtls.net`). */
  clientLeafCertSubject: string;
  clientLeafCertIssuer: string;
  /** `NotBefore=...;NotAfter=...` as AWS's example. */
  clientLeafCertValidity: string;
  /** Set by Connection Functions, which the local edge does not run: `-`. */
  connectionLogCustomData: string;
}

/** The distribution id the local edge logs (no real distribution: a fixed, recognisable one). */
export const LOCAL_DISTRIBUTION_ID = 'EMTLSKITLOCAL';

/** What is absent is written `-` (UNCONFIRMED: the page shows no record with absent fields). */
const ABSENT = '-';

export interface ConnectionLogInput {
  at: number;
  /** 40 random bytes, written as URL-safe base64 with padding (56 characters, as AWS's example). */
  connectionIdBytes: Uint8Array;
  status: string;
  clientIp: string;
  clientPort: number;
  serverIp: string;
  tlsProtocol: string | null;
  tlsCipher: string | null;
  handshakeMs: number | null;
  sni: string | null;
  leaf: ParsedCertificate | undefined;
}

/** One record from what the edge knows of a connection. Never throws (names render as `#HEX` when unreadable). */
export function connectionLogRecord(i: ConnectionLogInput): CloudFrontConnectionLogRecord {
  const b64 = Buffer.from(i.connectionIdBytes).toString('base64').replaceAll('+', '-').replaceAll('/', '_');
  return {
    eventTimestamp: Math.round(i.at),
    connectionId: b64,
    connectionStatus: i.status,
    clientIp: i.clientIp,
    clientPort: i.clientPort,
    serverIp: i.serverIp,
    distributionId: LOCAL_DISTRIBUTION_ID,
    distributionTenantId: ABSENT,
    tlsProtocol: i.tlsProtocol ?? ABSENT,
    tlsCipher: i.tlsCipher ?? ABSENT,
    tlsHandshakeDuration: i.handshakeMs === null ? ABSENT : Math.round(i.handshakeMs),
    tlsSni: i.sni || ABSENT,
    clientLeafCertSerialNumber: i.leaf ? formatSerialColonHexDer(i.leaf.serial) : ABSENT,
    clientLeafCertSubject: i.leaf ? formatCloudFrontLogDn(i.leaf.subject) : ABSENT,
    clientLeafCertIssuer: i.leaf ? formatCloudFrontLogDn(i.leaf.issuer) : ABSENT,
    clientLeafCertValidity: i.leaf ? formatAlbValidity(i.leaf.notBefore, i.leaf.notAfter) : ABSENT,
    connectionLogCustomData: ABSENT,
  };
}
