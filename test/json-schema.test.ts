/**
 * One JSON vocabulary (docs/json.md): every command's real --json output validates against
 * its schema in docs/schemas (generated from the command's XxxResult type by
 * scripts/json-schemas.ts), error documents against error.schema.json, and the schema
 * files are not stale.
 *
 * Adding a command: add how to run it to SAMPLES below (or to NOT_SAMPLED with the reason),
 * then `npm run build` (it runs `npm run schemas`) and commit docs/schemas.
 */
import assert from 'node:assert/strict';
import {readFileSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {after, describe, it} from 'node:test';
import {Ajv2020} from 'ajv/dist/2020.js';
import {schemaFiles} from '../scripts/json-schemas.js';
import {AcmEmulator} from '../src/io/emulate/acm.js';
import {startAwsStandIns} from './support/aws-env.js';
import {spawn} from 'node:child_process';
import {BIN, runCli} from './support/cli.js';
import {opensslOk as openssl} from './support/openssl.js';
import {generateConnectionLog} from './support/conn-logs.js';
import {spawnEmulate} from './support/emulate.js';
import {spawnServe} from './support/serve.js';
import {tempDir} from './support/tmp.js';

const ROOT = new URL('..', import.meta.url);
const work = tempDir();
const ajv = new Ajv2020({allErrors: true, strict: true});
const validator = (id: string) => ajv.compile(JSON.parse(readFileSync(new URL(`docs/schemas/${id}.schema.json`, ROOT), 'utf8')));
const BUCKET = 'schema-bucket';
const aws = await startAwsStandIns([BUCKET]);
const lbArn = aws.elb.addLoadBalancer('schema-alb');
const acmEmu = new AcmEmulator();
await acmEmu.start();
after(() => acmEmu.stop());
const AWS_KEYS = {AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test', AWS_SESSION_TOKEN: undefined, AWS_PROFILE: undefined};

let serverUrl = '';
let stopServe: (() => Promise<number>) | undefined;
after(async () => {
  await stopServe?.();
});
let serverCa = '';

/** Runs one sample (a function returning the parsed --json output). */
type Sample = () => Promise<unknown>;
const cli = async (args: string[], env: Record<string, string | undefined> = {}): Promise<unknown> => {
  const r = await runCli([...args, '--json'], {cwd: work, env});
  assert.ok(r.json !== undefined, `${args.join(' ')}: stdout is not JSON: ${r.stdout.slice(0, 300)} ${r.stderr.slice(0, 300)}`);
  assert.ok(!('error' in r.json), `${args.join(' ')} failed: ${JSON.stringify(r.json)}`);
  return r.json;
};
const deployArgs = [
  '--trust-store-name',
  'schema',
  '--bucket',
  BUCKET,
  '--load-balancer-arn',
  lbArn,
  '--port',
  '443',
  '--certificate-arn',
  'arn:aws:acm:us-east-1:123456789012:certificate/abc',
  '--target-group-arn',
  'arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/tg/1',
];

/** In order: later samples use the files earlier ones wrote. */
const SAMPLES: Record<string, Sample[]> = {
  'gen-ca': [() => cli(['gen-ca', '--intermediate'])],
  'gen-client': [
    () => cli(['gen-client', '--cn', 'device-1', '--out', 'device-1']),
    () => cli(['gen-client', '--cn', 'device-2', '--out', 'device-2']),
    () => cli(['gen-client', '--cn', 'fleet-{n}', '--count', '3', '--out', 'fleet']),
  ],
  'origin-cert': [
    () => cli(['origin-cert', '--cn', 'origin', '--out', 'origin']),
    () => cli(['origin-cert', '--cn', 'origin', '--out', 'origin', '--force', '--acm-import'], {AWS_ENDPOINT_URL_ACM: acmEmu.url, ...AWS_KEYS}),
  ],
  revoke: [() => cli(['revoke', '--cert', 'fleet/fleet-1/certificate.crt'])],
  crl: [() => cli(['crl'])],
  list: [() => cli(['list'])],
  renew: [() => cli(['renew', 'device-1/'])],
  sign: [
    async () => {
      openssl([
        'req',
        '-new',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:P-256',
        '-nodes',
        '-keyout',
        join(work, 'csr-key.pem'),
        '-subj',
        '/CN=csr-device',
        '-out',
        join(work, 'request.csr'),
      ]);
      return cli(['sign', 'request.csr', '--out', 'csr-device']);
    },
  ],
  inspect: [
    () => cli(['inspect', 'device-1/chain.pem']),
    () => cli(['inspect', 'device-1/chain.pem', '--trust-store', 'pki/ca-bundle.pem', '--target', 'nlb']),
    () => cli(['inspect', 'pki/intermediate/crl.pem']),
    () => cli(['inspect', 'request.csr']),
    () => cli(['inspect', 'device-1/private-key.pem']),
  ],
  verify: [
    () => cli(['verify', 'device-1/chain.pem']),
    () => cli(['verify', 'device-1/chain.pem', '--crl', 'pki/intermediate/crl.pem', '--trust-store', 'pki/ca-bundle.pem']),
  ],
  lint: [
    () => cli(['lint', 'pki/ca-bundle.pem', 'pki/intermediate/crl.pem']),
    () => cli(['lint', 'pki/ca-bundle.pem', 'device-1/chain.pem', '--target', 'nlb', '--identity-filter', 'subject-cn:prefix:nobody-']),
  ],
  'encode-header': [() => cli(['encode-header', 'device-1/certificate.crt'])],
  'decode-header': [
    async () => {
      const r = await runCli(['encode-header', 'device-1/certificate.crt'], {cwd: work});
      writeFileSync(join(work, 'captured.txt'), `${r.stdout}\n${r.stdout}`);
      return cli(['decode-header', '--file', 'captured.txt', '--trust-store', 'pki/ca-bundle.pem']);
    },
  ],
  logs: [
    async () => {
      writeFileSync(join(work, 'conn.log'), generateConnectionLog(200).text);
      return cli(['logs', 'conn.log']);
    },
  ],
  deploy: [() => cli(['deploy', ...deployArgs], aws.env)],
  status: [
    async () => {
      const d = (await cli(['deploy', ...deployArgs], aws.env)) as {listener: {arn: string}};
      return cli(['status', '--trust-store-name', 'schema', '--bucket', BUCKET, '--listener-arn', d.listener.arn], aws.env);
    },
  ],
  destroy: [
    async () => {
      const lb = aws.elb.addLoadBalancer('schema-destroy-alb');
      const d = (await cli(
        [
          'deploy',
          '--trust-store-name',
          'schema-destroy',
          '--bucket',
          BUCKET,
          '--prefix',
          'destroy/',
          '--load-balancer-arn',
          lb,
          '--port',
          '443',
          '--certificate-arn',
          'arn:aws:acm:us-east-1:123456789012:certificate/abc',
          '--target-group-arn',
          'arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/tg/1',
        ],
        aws.env,
      )) as {listener: {arn: string}};
      const args = [
        'destroy',
        '--trust-store-name',
        'schema-destroy',
        '--bucket',
        BUCKET,
        '--prefix',
        'destroy/',
        '--listener-arn',
        d.listener.arn,
        '--delete-objects',
      ];
      await cli([...args, '--dry-run'], aws.env);
      return cli([...args, '--yes'], aws.env);
    },
  ],
  demo: [() => cli(['demo'])],
  emulate: [
    async () => {
      const e = await spawnEmulate([
        '--bucket',
        'bucket-1',
        '--versioned-bucket',
        'bucket-2',
        '--alb',
        'a1',
        '--nlb',
        'n1',
        '--apigw-domain',
        'api.example.com:http',
      ]);
      await e.stop();
      return e.info;
    },
  ],
  serve: [
    async () => {
      const s = await spawnServe(['--dir', join(work, 'pki'), '--port', '0']);
      stopServe = s.stop;
      serverUrl = s.info.listeners[0]!.url;
      serverCa = s.info.serverCa!;
      return s.info;
    },
  ],
  // Prints its JSON once listening, then runs until stopped (by its process id).
  ocsp: [
    () =>
      new Promise((resolve, reject) => {
        const child = spawn(process.execPath, [BIN, 'ocsp', '--listen', '127.0.0.1:0', '--json'], {cwd: work, stdio: ['ignore', 'pipe', 'pipe']});
        let out = '';
        const timer = setTimeout(() => reject(new Error(`ocsp did not start in 20 s: ${out}`)), 20_000);
        child.stdout.on('data', (d: Buffer) => {
          out += d.toString();
          if (!out.includes('\n')) return;
          clearTimeout(timer);
          process.kill(child.pid!, 'SIGTERM');
          resolve(JSON.parse(out.slice(0, out.indexOf('\n'))));
        });
        child.on('exit', (code) => {
          clearTimeout(timer);
          if (!out.includes('\n')) reject(new Error(`ocsp exited ${code}`));
        });
      }),
    // --check on a chain without OCSP URLs: a failed check (exit 3) is still a result.
    () => cli(['ocsp', '--check', 'device-2/chain.pem', '--trust-store', 'pki/ca-bundle.pem']),
  ],
  // After serve (SAMPLES run in order): probes the listener serve started.
  probe: [() => cli(['probe', serverUrl, '--client', './device-2', '--trust-store', serverCa])],
};

/** Commands whose output is not JSON, with the reason. */
const NOT_SAMPLED: Record<string, string> = {
  help: 'bundled oclif plugin: prints help text, has no --json',
  autocomplete: 'bundled oclif plugin: prints shell set-up text, has no --json',
  'autocomplete:create': 'bundled oclif plugin (hidden)',
  'autocomplete:script': 'bundled oclif plugin (hidden)',
};

describe('JSON output against docs/schemas', () => {
  it('the schema files are up to date with the result types (npm run schemas)', () => {
    for (const [path, text] of Object.entries(schemaFiles())) {
      let committed = '';
      try {
        committed = readFileSync(new URL(path, ROOT), 'utf8');
      } catch {}
      assert.equal(committed, text, `${path} is stale: run npm run schemas and commit docs/schemas`);
    }
  });

  it('every command is sampled or says why not', () => {
    const manifest = JSON.parse(readFileSync(new URL('oclif.manifest.json', ROOT), 'utf8')) as {commands: Record<string, unknown>};
    for (const id of Object.keys(manifest.commands)) assert.ok(SAMPLES[id] || NOT_SAMPLED[id], `add a --json sample of ${id} to test/json-schema.test.ts`);
  });

  for (const [id, samples] of Object.entries(SAMPLES)) {
    it(`${id} --json validates against docs/schemas/${id}.schema.json`, async () => {
      const validate = validator(id);
      for (const sample of samples) {
        const json = await sample();
        assert.ok(validate(json), `${id}: ${ajv.errorsText(validate.errors, {separator: '\n'})}\n${JSON.stringify(json).slice(0, 600)}`);
      }
    });
  }

  it('error documents (a failing command, a usage error, an unknown command) validate against error.schema.json', async () => {
    const validate = validator('error');
    for (const args of [
      ['inspect', 'no-such-file.pem'],
      ['verify', '--no-such-flag', 'x'],
      ['gen-clinet'],
      ['verify', 'device-1/chain.pem', '--trust-store', 'device-1/private-key.pem'],
    ]) {
      const r = await runCli([...args, '--json'], {cwd: work});
      assert.notEqual(r.code, 0, args.join(' '));
      assert.ok(validate(r.json), `${args.join(' ')}: ${ajv.errorsText(validate.errors)}\n${r.stdout}`);
    }
  });
});
