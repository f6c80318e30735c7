import {Flags} from '@oclif/core';
import {BaseCommand} from '../base-command.js';
import {dirFlag, forceFlag, keyTypeFlag, passphraseFileFlag, subjectFlags} from '../flags.js';
import {caExists, caPaths, type CaConfig} from '../io/ca/directory.js';
import {MODE_PUBLIC, MODE_SECRET, type PlannedFile, writeFilesAtomic} from '../io/files.js';
import {resolveSecret} from '../io/secrets.js';
import {createCa} from '../lib/pki/ca.js';
import {type CertDetails, describeCertificate} from '../lib/alb/describe.js';
import {preconditionError} from '../lib/errors.js';
import {formatIndexLine} from '../lib/x509/index-db.js';
import {subjectFromFields} from '../lib/x509/names.js';
import {checkOcspUrl} from '../lib/x509/profiles.js';
import {renderCertSummary} from '../ui/cert-render.js';
import {hint, printLine} from '../ui/output.js';

export interface GenCaResult {
  caDir: string;
  keyType: string;
  encrypted: boolean;
  root: CertDetails & {path: string};
  intermediate: (CertDetails & {path: string}) | null;
  bundle: string;
  files: string[];
  next: string;
}

export default class GenCa extends BaseCommand {
  static override summary = 'Create a test CA: a root, and optionally an intermediate, with an ALB-ready ca-bundle.pem.';
  static override description =
    `Writes the CA into --dir: root/ca.crt and root/ca.key (0600; encrypted with --passphrase-file or MTLS_KIT_CA_PASSPHRASE), intermediate/ with --intermediate, ca-bundle.pem formatted as an ALB trust store requires, and index.txt files that revoke and crl read.

Exit codes: 0 created; 2 bad flag values; 4 a CA already exists (use --force), the folder is not writable, or the passphrase file cannot be read.`;

  static override examples = [
    '<%= config.bin %> gen-ca --cn "Acme Test Root CA"',
    '<%= config.bin %> gen-ca --cn "Acme Root" --intermediate --key-type ec-p384 --passphrase-file ./ca-pass.txt',
    '<%= config.bin %> gen-ca --subject "CN=Devices Root,O=Acme,C=US" --days 3650 --dir ./pki-devices --json',
  ];

  static override flags = {
    dir: dirFlag,
    'key-type': keyTypeFlag,
    ...subjectFlags,
    intermediate: Flags.boolean({summary: 'Also create an intermediate CA; client certificates are then issued by it.', default: false}),
    'intermediate-cn': Flags.string({summary: 'CN of the intermediate (default: "<root CN> Intermediate").'}),
    days: Flags.integer({summary: 'Root lifetime in days.', default: 3650, min: 1}),
    'intermediate-days': Flags.integer({summary: "Intermediate lifetime in days (at most the root's).", default: 1825, min: 1}),
    'passphrase-file': passphraseFileFlag,
    'ocsp-url': Flags.string({
      summary:
        "OCSP responder URL for the intermediate's authorityInfoAccess (CloudFront with OCSP on needs one on every certificate but the root; see mtls-kit ocsp).",
      helpValue: 'URL',
      dependsOn: ['intermediate'],
    }),
    force: forceFlag,
  };

  async run(): Promise<GenCaResult> {
    const {flags} = await this.parse(GenCa);
    const dir = flags.dir;
    const paths = caPaths(dir);
    if (!flags.force) {
      const existing = await caExists(dir);
      if (existing) {
        throw preconditionError('CA_EXISTS', `a CA already exists in ${dir} (${existing}); nothing was written`, [
          'use it as it is, choose another --dir, or re-run with --force to replace it (every certificate it issued stops being trusted)',
        ]);
      }
    }
    const rootSubject = subjectFromFields({...flags, cn: flags.cn ?? (flags.subject ? undefined : 'mtls-kit Test Root CA')});
    const rootCn = flags.cn ?? rootSubject.flat().find((a) => a.type === '2.5.4.3')?.value ?? 'mtls-kit Test Root CA';
    const intermediateSubject = flags.intermediate
      ? rootSubject.map((rdn) => rdn.map((a) => (a.type === '2.5.4.3' ? {...a, value: flags['intermediate-cn'] ?? `${rootCn} Intermediate`} : a)))
      : undefined;
    if (intermediateSubject && !intermediateSubject.flat().some((a) => a.type === '2.5.4.3'))
      intermediateSubject.push([{type: '2.5.4.3', value: flags['intermediate-cn'] ?? `${rootCn} Intermediate`}]);
    const passphrase = await resolveSecret(flags['passphrase-file'], 'MTLS_KIT_CA_PASSPHRASE', 'CA key passphrase', {confirm: true, allowEmpty: true});

    const ca = createCa({
      keyType: flags['key-type'],
      rootSubject,
      ...(intermediateSubject ? {intermediateSubject} : {}),
      rootDays: flags.days,
      intermediateDays: flags['intermediate-days'],
      ...(passphrase === undefined ? {} : {passphrase}),
      ...(flags['ocsp-url'] ? {ocspUrl: checkOcspUrl(flags['ocsp-url'])} : {}),
      now: new Date(),
    });

    const config: CaConfig = {
      format: 1,
      keyType: flags['key-type'],
      issuer: ca.intermediate ? 'intermediate' : 'root',
      tiers: ca.intermediate ? ['root', 'intermediate'] : ['root'],
      encrypted: passphrase !== undefined,
      created: new Date().toISOString(),
    };
    const files: PlannedFile[] = [
      {path: paths.root.key, data: ca.root.keyPem, mode: MODE_SECRET},
      {path: paths.root.cert, data: ca.root.certPem, mode: MODE_PUBLIC},
      {path: paths.root.index, data: ca.rootIndex.map(formatIndexLine).join(''), mode: MODE_PUBLIC},
      // openssl ca reads this; subjects may repeat across a fleet.
      {path: paths.root.indexAttr, data: 'unique_subject = no\n', mode: MODE_PUBLIC},
    ];
    if (ca.intermediate) {
      files.push(
        {path: paths.intermediate.key, data: ca.intermediate.keyPem, mode: MODE_SECRET},
        {path: paths.intermediate.cert, data: ca.intermediate.certPem, mode: MODE_PUBLIC},
        {path: paths.intermediate.index, data: '', mode: MODE_PUBLIC},
        {path: paths.intermediate.indexAttr, data: 'unique_subject = no\n', mode: MODE_PUBLIC},
      );
    }
    files.push(
      {path: paths.bundle, data: ca.bundlePem, mode: MODE_PUBLIC},
      {path: paths.config, data: JSON.stringify(config, null, 2) + '\n', mode: MODE_PUBLIC},
    );
    await writeFilesAtomic(files, {force: flags.force});

    const dirArg = `${dir === './pki' || dir === 'pki' ? '' : ` --dir ${dir}`}${flags['ocsp-url'] ? ` --ocsp-url ${flags['ocsp-url']}` : ''}`;
    const result: GenCaResult = {
      caDir: dir,
      keyType: flags['key-type'],
      encrypted: config.encrypted,
      root: {...describeCertificate(ca.root.cert), path: paths.root.cert},
      intermediate: ca.intermediate ? {...describeCertificate(ca.intermediate.cert), path: paths.intermediate.cert} : null,
      bundle: paths.bundle,
      files: files.map((f) => f.path),
      next: `mtls-kit gen-client${dirArg} --cn device-1`,
    };
    return this.emit(result, (r) => {
      printLine(renderCertSummary(r.root, `root CA → ${r.root.path}`));
      if (r.intermediate) printLine(renderCertSummary(r.intermediate, `intermediate CA → ${r.intermediate.path}`));
      printLine(
        `wrote ${r.bundle} (ALB trust-store bundle, ${r.intermediate ? 2 : 1} certificate${r.intermediate ? 's' : ''})${r.encrypted ? '; CA keys are encrypted' : ''}`,
      );
      hint(`next: ${r.next}`);
    });
  }
}
