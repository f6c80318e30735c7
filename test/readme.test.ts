/**
 * The README runs: every example in README.md is executed, in order, in one scratch folder,
 * so the README and the behaviour cannot drift apart.
 *
 * Conventions in README.md (this test is their definition):
 * - A fenced block opened with ```sh is run. Its commands run in order in ONE bash process
 *   (so `export`, `cd`, background jobs and `kill $!` carry from block to block), in an empty
 *   scratch folder, with `mtls-kit` on PATH (a wrapper around bin/run.js on this Node).
 * - Every command must exit 0, unless its line ends with a comment saying `exits N`
 *   (`mtls-kit verify revoked/chain.pem  # exits 3: revoked`): then it must exit exactly N.
 * - A command ending in `&` runs in the background; the test then waits (bounded) until the
 *   ports it listens on (`--listen PORT:mode`, `--port PORT`) accept connections. Whatever is
 *   still running at the end is stopped.
 * - ```sh no-run blocks are shown and not run: only the development commands that act on the
 *   checkout itself (npm ci, npm test, npm run ..., node scripts/...) may be in them, which
 *   this test checks. Other fenced blocks (```json, plain ```) are not commands.
 * - Local ports in the README (the PORT of `--listen PORT:mode`) are replaced everywhere by
 *   free ports found at run time, so two runs on one machine never collide.
 * - AWS: the examples use the SDK's usual settings. This test provides them: dummy
 *   credentials, AWS_REGION, and AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL_ELASTIC_LOAD_BALANCING_V2
 *   pointing at s3rver, the ELBv2 emulator and the API Gateway emulator on 127.0.0.1
 *   (test/support; one S3 endpoint that sends the versioned bucket acme-truststores to the
 *   versioned S3 server and the others to s3rver), plus what the README says is the
 *   reader's own: $LOAD_BALANCER_ARN, $CERTIFICATE_ARN, $TARGET_GROUP_ARN, the buckets
 *   acme-mtls, acme-logs (holding one connection log) and acme-truststores, and the domain
 *   api.example.com with a REST API mapped.
 */
import assert from 'node:assert/strict';
import {spawn} from 'node:child_process';
import {chmodSync, mkdirSync, readFileSync, writeFileSync} from 'node:fs';
import {createServer as createHttpServer, request} from 'node:http';
import {gzipSync} from 'node:zlib';
import {join} from 'node:path';
import {after, describe, it} from 'node:test';
import {fileURLToPath} from 'node:url';
import {ApigwEmulator} from './support/apigw-emulator.js';
import {startAwsStandIns} from './support/aws-env.js';
import {BIN} from './support/cli.js';
import {generateConnectionLog} from './support/conn-logs.js';
import {VersionedS3} from './support/s3-versioned.js';
import {freePort} from './support/tls-peers.js';
import {tempDir} from './support/tmp.js';

const README = fileURLToPath(new URL('../README.md', import.meta.url));

export interface Example {
  /** 1-based line in README.md where the command starts. */
  line: number;
  /** The command as written (continuation lines joined), without its trailing comment. */
  command: string;
  /** The exit code the README promises (`# exits N`), else 0. */
  exit: number;
  background: boolean;
}

/** Splits a shell line into the command and its trailing comment (a `#` starting a word outside quotes). */
function splitComment(line: string): [string, string] {
  let quote: string | null = null;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quote) {
      if (c === quote) quote = null;
      else if (c === '\\' && quote === '"') i++;
    } else if (c === "'" || c === '"') quote = c;
    else if (c === '\\') i++;
    else if (c === '#' && (i === 0 || /\s/.test(line[i - 1]!))) return [line.slice(0, i).trimEnd(), line.slice(i + 1)];
  }
  return [line.trimEnd(), ''];
}

/** The ```sh blocks of a README, as examples in order; `noRun` collects the lines of ```sh no-run blocks. */
export function readExamples(text: string): {examples: Example[]; noRun: string[]} {
  const examples: Example[] = [];
  const noRun: string[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(\S*)\s*(.*)$/.exec(lines[i]!);
    if (!open) continue;
    let j = i + 1;
    while (j < lines.length && !lines[j]!.startsWith('```')) j++;
    const body = lines.slice(i + 1, j);
    if (open[1] === 'sh' && open[2] === 'no-run') noRun.push(...body.filter((l) => l.trim() && !l.trim().startsWith('#')));
    else if (open[1] === 'sh') {
      for (let k = 0; k < body.length; k++) {
        const start = k;
        let text = body[k]!;
        while (text.endsWith('\\') && k + 1 < body.length) text = `${text.slice(0, -1)} ${body[++k]!.trim()}`;
        const [cmd, comment] = splitComment(text);
        if (!cmd.trim()) continue;
        const exit = /\bexits (\d+)\b/.exec(comment);
        const background = /&$/.test(cmd) && !/&&$/.test(cmd);
        examples.push({line: i + 2 + start, command: background ? cmd.slice(0, -1).trimEnd() : cmd, exit: exit ? Number(exit[1]) : 0, background});
      }
    }
    i = j;
  }
  return {examples, noRun};
}

/** Ports the README listens on locally, each mapped to a free one. */
async function portMap(examples: Example[]): Promise<Map<string, string>> {
  const map = new Map<string, string>();
  for (const e of examples) for (const m of e.command.matchAll(/--listen[ =](\d+):/g)) if (!map.has(m[1]!)) map.set(m[1]!, String(await freePort()));
  return map;
}

function applyPorts(s: string, ports: Map<string, string>): string {
  return ports.size === 0 ? s : s.replace(new RegExp(`\\b(${[...ports.keys()].join('|')})\\b`, 'g'), (p) => ports.get(p)!);
}

/** One bash script running every example, recording `index exit-code` lines in rcFile and each command's output in out/N.log. */
function script(examples: Example[], ports: Map<string, string>, rcFile: string, outDir: string): string {
  const parts = [
    // bounded: 300 x 0.1 s
    `__wait_port() { for _ in $(seq 300); do (exec 3<>/dev/tcp/127.0.0.1/$1) 2>/dev/null && return 0; sleep 0.1; done; echo "port $1 never opened" >&2; return 1; }`,
    `trap 'kill $(jobs -p) 2>/dev/null; wait' EXIT`,
  ];
  examples.forEach((e, n) => {
    const cmd = applyPorts(e.command, ports);
    const log = join(outDir, `${n}.log`);
    if (e.background) {
      // As typed: `kill $!` must stop the command itself, not a subshell around it.
      parts.push(`${cmd} > ${log} 2>&1 &`);
      const listen = [...cmd.matchAll(/--(?:listen[ =](\d+):|port[ =](\d+))/g)].map((m) => m[1] ?? m[2]);
      parts.push(`__rc=0; for p in ${listen.join(' ')}; do __wait_port $p || __rc=99; done; echo "${n} $__rc" >> ${rcFile}`);
    } else {
      parts.push(`{\n${cmd}\n} > ${log} 2>&1 < /dev/null; echo "${n} $?" >> ${rcFile}`);
    }
  });
  return parts.join('\n') + '\n';
}

/** One path-style S3 endpoint: requests for `bucket` go to `other`, the rest to `main` (headers kept, so s3rver's SigV4 check still holds). */
async function s3Router(main: string, other: string, bucket: string): Promise<{url: string; stop(): Promise<void>}> {
  const server = createHttpServer((req, res) => {
    const base = new URL(req.url!.split('/')[1]?.split('?')[0] === bucket ? other : main);
    const up = request({host: base.hostname, port: base.port, method: req.method, path: req.url, headers: req.headers}, (r) => {
      res.writeHead(r.statusCode ?? 502, r.headers);
      r.pipe(res);
    });
    up.on('error', () => res.destroy());
    req.pipe(up);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {url: `http://127.0.0.1:${(server.address() as {port: number}).port}`, stop: () => new Promise((resolve) => server.close(() => resolve()))};
}

describe('README.md runs', () => {
  const text = readFileSync(README, 'utf8');
  const {examples, noRun} = readExamples(text);

  it("only the checkout's own development commands are marked no-run", () => {
    for (const l of noRun) assert.match(l.trim(), /^(npm (ci|test|run \S+)|node scripts\/\S+)(\s|$)/, `a no-run line that is an example: ${l}`);
    assert.ok(examples.length > 50, `found only ${examples.length} examples`);
  });

  it('every example exits as the README says, in order, in a scratch folder', {timeout: 600_000}, async () => {
    const aws = await startAwsStandIns(['acme-mtls', 'acme-logs']);
    const lb = aws.elb.addLoadBalancer('acme-alb');
    const versioned = new VersionedS3([{name: 'acme-truststores', versioning: 'Enabled'}]);
    await versioned.start();
    const gw = new ApigwEmulator({s3Endpoint: versioned.url, updateDelayMs: 100});
    await gw.start();
    gw.addDomain('api.example.com');
    gw.addApi('rest1', 'rest');
    gw.map('api.example.com', 'rest1');
    const s3 = await s3Router(aws.s3.url, versioned.url, 'acme-truststores');
    after(async () => {
      await s3.stop();
      await gw.stop();
      await versioned.stop();
    });
    const {S3Client, PutObjectCommand} = await import('@aws-sdk/client-s3');
    const client = new S3Client({endpoint: aws.s3.url, region: 'us-east-1', forcePathStyle: true, credentials: {accessKeyId: 'test', secretAccessKey: 'test'}});
    await client.send(
      new PutObjectCommand({
        Bucket: 'acme-logs',
        Key: 'AWSLogs/111122223333/elasticloadbalancing/us-east-1/2026/11/21/conn_log.log.gz',
        Body: gzipSync(generateConnectionLog(50).text),
      }),
    );
    client.destroy();
    const work = tempDir('mtls-kit-readme-');
    const scratch = join(work, 'scratch');
    const bin = join(work, 'bin');
    const outDir = join(work, 'out');
    for (const d of [scratch, bin, outDir]) mkdirSync(d);
    writeFileSync(join(bin, 'mtls-kit'), `#!/bin/sh\nexec '${process.execPath}' '${BIN}' "$@"\n`);
    chmodSync(join(bin, 'mtls-kit'), 0o755);
    const ports = await portMap(examples);
    const rcFile = join(work, 'rc');
    writeFileSync(rcFile, '');
    writeFileSync(join(work, 'readme.sh'), script(examples, ports, rcFile, outDir));
    const env: Record<string, string> = {};
    const merged = {
      ...process.env,
      ...aws.env,
      PATH: `${bin}:${process.env.PATH}`,
      NO_COLOR: '1',
      MTLS_KIT_DIR: undefined,
      MTLS_KIT_CA_PASSPHRASE: undefined,
      MTLS_KIT_P12_PASSWORD: undefined,
      AWS_ENDPOINT_URL_S3: s3.url,
      AWS_ENDPOINT_URL_API_GATEWAY: gw.url,
      AWS_ENDPOINT_URL_APIGATEWAYV2: gw.url,
      LOAD_BALANCER_ARN: lb,
      CERTIFICATE_ARN: 'arn:aws:acm:us-east-1:123456789012:certificate/readme',
      TARGET_GROUP_ARN: 'arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/readme/1',
    };
    for (const [k, v] of Object.entries(merged)) if (v !== undefined) env[k] = v;
    const code = await new Promise<number | null>((resolve, reject) => {
      const child = spawn('bash', [join(work, 'readme.sh')], {cwd: scratch, env, stdio: 'ignore'});
      const timer = setTimeout(() => child.kill('SIGKILL'), 540_000);
      child.on('error', reject);
      child.on('close', (c) => {
        clearTimeout(timer);
        resolve(c);
      });
    });
    const rcs = new Map(
      readFileSync(rcFile, 'utf8')
        .trim()
        .split('\n')
        .filter(Boolean)
        .map((l) => l.split(' ').map(Number) as [number, number]),
    );
    const failures: string[] = [];
    examples.forEach((e, n) => {
      const rc = rcs.get(n);
      if (rc === e.exit) return;
      let out = '';
      try {
        out = readFileSync(join(outDir, `${n}.log`), 'utf8')
          .trim()
          .split('\n')
          .slice(-6)
          .join('\n    ');
      } catch {}
      failures.push(
        `README.md:${e.line}: ${e.command}\n  exit ${rc ?? 'never ran'}, README says ${e.exit}${e.background ? ' (background: its ports never opened)' : ''}\n    ${out}`,
      );
    });
    assert.equal(failures.length, 0, `${failures.length} README example(s) did not behave as written (script exit ${code}):\n${failures.join('\n')}`);
  });
});
