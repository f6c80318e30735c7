/**
 * Human rendering of `probe`: the TLS session, the server chain, the advertised client CA
 * names against the local bundle, and the mTLS outcome beside the offline verdict.
 */
import type {ProbeResult} from '../lib/tls/probe-result.js';
import {hint, keyValues, out, printLine} from './output.js';
import {revocationNote} from './verify-render.js';

/** Prints the probe result (stdout) and the next step (stderr). */
export function renderProbe(r: ProbeResult): void {
  printLine(out.bold(`probe ${r.url}`));
  printLine(
    keyValues([
      ['TLS', `${r.tls.version ?? '?'} ${r.tls.cipher ?? ''}`.trim()],
      ['server trusted', r.serverTrusted.ok ? out.green('yes') : out.yellow(`no (${r.serverTrusted.error ?? 'unknown'})`)],
    ]),
  );
  printLine(out.bold('server chain'));
  for (const [i, c] of r.serverChain.entries()) printLine(`  ${i}: ${c.subject}  (issuer ${c.issuer}; expires ${c.notAfter}, ${c.daysLeft} days)`);
  printLine(out.bold('client certificate request'));
  if (r.clientCertRequested === null) printLine(`  could not be read from the handshake (${r.caNamesSource})`);
  else if (!r.clientCertRequested) printLine('  the server did not ask for a client certificate');
  else if (r.advertisedCaNames!.length === 0) printLine(`  requested; no CA names advertised (ALB: AdvertiseTrustStoreCaNames off) [${r.caNamesSource}]`);
  else {
    printLine(`  requested; ${r.advertisedCaNames!.length} acceptable CA name${r.advertisedCaNames!.length === 1 ? '' : 's'} advertised [${r.caNamesSource}]:`);
    for (const n of r.advertisedCaNames!)
      printLine(`    ${r.localBundle ? (n.inLocalBundle ? out.green('in bundle ') : out.yellow('not local ')) : ''}${n.dn}`);
    if (r.localBundle && r.localBundle.notAdvertised.length > 0)
      printLine(`  in ${r.localBundle.file} but not advertised: ${r.localBundle.notAdvertised.join('; ')}`);
  }
  const alert = r.handshake.alert ? ` with alert ${r.handshake.alert.name} (${r.handshake.alert.code})` : r.handshake.error ? ` (${r.handshake.error})` : '';
  printLine(
    keyValues(
      [
        ['client', r.client ? `${r.client.subject} (serial ${r.client.serial}, ${r.client.file})` : 'none presented'],
        ['handshake', r.handshake.outcome === 'accepted' ? out.green('accepted') : out.red(`rejected${alert}`)],
        ['HTTP', r.http.status === null ? undefined : `${r.http.status} ${r.http.statusText ?? ''}`.trim()],
        [
          'offline verify',
          r.offlineVerdict
            ? `${r.offlineVerdict.status.startsWith('Success') ? out.green(r.offlineVerdict.status) : out.red(r.offlineVerdict.status)}${revocationNote(r.offlineVerdict.revocationChecked, r.offlineVerdict.status)} (against ${r.offlineVerdict.trustStore}${r.offlineVerdict.crls.length ? `, CRLs ${r.offlineVerdict.crls.join(', ')}` : ''})`
            : undefined,
        ],
      ],
      '',
    ),
  );
  if (r.next) hint(`next: ${r.next}`);
}
