/**
 * Synthetic ALB connection logs (aws-reference 5) for the logs tests and bench: a fixed mix of
 * statuses, so the expected counts are known exactly.
 */
import {formatConnectionLogLine, type ConnectionLogEntry} from '../../src/lib/alb/connection-log.js';

export interface GeneratedLog {
  text: string;
  byStatus: Record<string, number>;
}

const STATUSES = [
  'Success',
  'Success',
  'Success',
  'Success',
  'Success',
  'Success',
  'Failed:ClientCertCrlHit',
  'Failed:ClientCertUntrusted',
  'Failed:ClientCertExpired',
  'Success',
];

/** `n` lines; every 10th block of statuses repeats STATUSES. Serials and subjects vary by client. */
export function generateConnectionLog(n: number, opts: {clients?: number; extraField?: boolean} = {}): GeneratedLog {
  const clients = opts.clients ?? 50;
  const byStatus: Record<string, number> = {};
  const lines: string[] = [];
  for (let i = 0; i < n; i++) {
    const status = STATUSES[i % STATUSES.length]!;
    byStatus[status] = (byStatus[status] ?? 0) + 1;
    const c = i % clients;
    const e: ConnectionLogEntry = {
      timestamp: `2026-11-21T05:${String(Math.floor(i / 60000) % 60).padStart(2, '0')}:${String(Math.floor(i / 1000) % 60).padStart(2, '0')}.${String(i % 1000000).padStart(6, '0')}Z`,
      clientIp: `203.0.113.${c % 250}`,
      clientPort: 30000 + (i % 30000),
      listenerPort: 443,
      tlsProtocol: i % 3 === 0 ? 'TLSv1.2' : 'TLSv1.3',
      tlsCipher: i % 3 === 0 ? 'ECDHE-RSA-AES128-GCM-SHA256' : 'TLS_AES_128_GCM_SHA256',
      handshakeLatency: status === 'Success' ? ((i % 100) / 1000 + 0.001).toFixed(3) : '-',
      subject: `CN=device-${c},O=Acme Devices,C=US`,
      validity: 'NotBefore=2026-01-01T00:00:00Z;NotAfter=2027-01-01T00:00:00Z',
      serial: (0x1000 + c).toString(16).toUpperCase().padStart(4, '0'),
      verifyStatus: status,
      connTraceId: `TID_${i.toString(16).padStart(32, '0')}`,
      tlsKeyExchange: 'x25519',
      elb: 'app/my-alb/50dc6c495c0c9188',
      ipAddress: '10.0.0.12',
      extra: opts.extraField ? ['-'] : [],
    };
    lines.push(formatConnectionLogLine(e));
  }
  return {text: lines.join('\n') + '\n', byStatus};
}
