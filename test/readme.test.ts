/**
 * The README runs: every example in README.md is executed, in order, in one scratch folder,
 * as a person pastes it, so the README and the behaviour cannot drift apart.
 *
 * Conventions in README.md (this test is their definition):
 * - A fenced block opened with ```sh is run. Its commands run in order in ONE bash process
 *   that reads them from its standard input, as a terminal feeds pasted lines to a shell (so
 *   `export`, `.`, `cd`, background jobs and `kill $!` carry from block to block, and a command
 *   that reads stdin would swallow the lines after it: those then never run, and fail here).
 *   The folder starts empty and `mtls-kit` is on PATH (a wrapper around bin/run.js on this Node).
 * - Every command must exit 0, unless its line ends with a comment saying `exits N`
 *   (`mtls-kit verify revoked/chain.pem  # exits 3: revoked`): then it must exit exactly N.
 * - A command ending in `&` runs in the background, and nothing waits for it but the README
 *   itself (`serve --ready-file`, `emulate --ready-file` and a bounded loop): pasted, the next
 *   line runs at once. Whatever is still running at the end is stopped.
 * - ```sh no-run blocks are shown and not run: only commands that install or act on the
 *   checkout itself (npm ci/install/link/pack/test/run, git clone, node scripts/...) may be in
 *   them, which this test checks. Other fenced blocks (```json, plain ```) are not commands.
 * - Local ports in the README (the PORT of `--listen PORT:mode` and of `emulate --port PORT`)
 *   are replaced everywhere by free ports found at run time, so two runs never collide.
 * - AWS: the README starts `mtls-kit emulate` and sources the export lines it writes; the
 *   environment here has no AWS variable at all and an empty HOME (no ~/.aws), as on a fresh
 *   machine, so nothing can reach AWS.
 */
import assert from 'node:assert/strict';
import {spawn} from 'node:child_process';
import {chmodSync, mkdirSync, readFileSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {describe, it} from 'node:test';
import {fileURLToPath} from 'node:url';
import {BIN} from './support/cli.js';
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
  for (const e of examples)
    for (const m of e.command.matchAll(/--listen[ =](\d+):|\bemulate\b.*--port[ =](\d+)/g)) {
      const port = m[1] ?? m[2]!;
      if (!map.has(port)) map.set(port, String(await freePort()));
    }
  return map;
}

function applyPorts(s: string, ports: Map<string, string>): string {
  return ports.size === 0 ? s : s.replace(new RegExp(`\\b(${[...ports.keys()].join('|')})\\b`, 'g'), (p) => ports.get(p)!);
}

/** The text pasted into one bash: every example, recording `index exit-code` lines in rcFile and each command's output in out/N.log. */
function script(examples: Example[], ports: Map<string, string>, rcFile: string, outDir: string): string {
  const parts = [`trap 'kill $(jobs -p) 2>/dev/null; wait' EXIT`];
  examples.forEach((e, n) => {
    const cmd = applyPorts(e.command, ports);
    const log = join(outDir, `${n}.log`);
    // As typed: `kill $!` must stop the command itself, not a subshell around it; no wait here.
    if (e.background) parts.push(`${cmd} > ${log} 2>&1 &`, `echo "${n} 0" >> ${rcFile}`);
    else parts.push(`{\n${cmd}\n} > ${log} 2>&1; echo "${n} $?" >> ${rcFile}`);
  });
  return parts.join('\n') + '\n';
}

describe('README.md runs', () => {
  const text = readFileSync(README, 'utf8');
  const {examples, noRun} = readExamples(text);

  it("only the checkout's own development commands are marked no-run", () => {
    for (const l of noRun)
      assert.match(l.trim(), /^(npm (ci|test|install|link|pack|run \S+)|git clone|node scripts\/\S+)(\s|$)/, `a no-run line that is an example: ${l}`);
    assert.ok(examples.length > 50, `found only ${examples.length} examples`);
  });

  it('every example exits as the README says, in order, in a scratch folder', {timeout: 600_000}, async () => {
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
    const home = join(work, 'home');
    mkdirSync(home);
    // A fresh machine: no AWS_* variable, no ~/.aws, no mtls-kit setting.
    const env: Record<string, string> = {HOME: home, NO_COLOR: '1', AWS_EC2_METADATA_DISABLED: 'true'};
    for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !/^(AWS_|MTLS_KIT_|HOME$)/.test(k)) env[k] ??= v;
    env.PATH = `${bin}:${process.env.PATH}`;
    const code = await new Promise<number | null>((resolve, reject) => {
      // Pasted: the lines arrive on bash's stdin, which every foreground command inherits.
      const child = spawn('bash', [], {cwd: scratch, env, stdio: ['pipe', 'ignore', 'ignore']});
      child.stdin.on('error', () => {});
      child.stdin.end(readFileSync(join(work, 'readme.sh')));
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
        `README.md:${e.line}: ${e.command}\n  exit ${rc ?? 'never ran (did a command before it read the pasted lines?)'}, README says ${e.exit}\n    ${out}`,
      );
    });
    assert.equal(failures.length, 0, `${failures.length} README example(s) did not behave as written (script exit ${code}):\n${failures.join('\n')}`);
  });
});
