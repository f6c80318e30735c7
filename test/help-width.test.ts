// Help that fits the terminal (src/help.ts): every command's -h, and the root help, at 80 and
// 120 columns has no line wider than the terminal; deploy -h stays short enough to read; an
// example command broken to fit still pastes as the same command.
import assert from 'node:assert/strict';
import {readdirSync} from 'node:fs';
import {describe, it} from 'node:test';
import {fitLine, wrapCommandLine} from '../src/help.js';
import {runCli} from './support/cli.js';

const commands = readdirSync('src/commands')
  .filter((f) => f.endsWith('.ts'))
  .map((f) => f.slice(0, -3));

/** The lines of `text` wider than `width` (in characters, as a terminal counts them). */
const tooWide = (text: string, width: number): string[] => text.split('\n').filter((l) => [...l].length > width);

describe('help fits the terminal', () => {
  it('the checker catches a planted wide line; fitLine and wrapCommandLine fix it without losing a word', () => {
    const long = `      ${'word '.repeat(30).trim()}`;
    assert.equal(tooWide(`ok\n${long}`, 80).length, 1);
    const fitted = fitLine(long, 80);
    assert.ok(fitted.length > 1);
    assert.deepEqual(tooWide(fitted.join('\n'), 80), []);
    assert.ok(
      fitted.every((l) => l.startsWith('      w')),
      'keeps the indentation',
    );
    assert.equal(fitted.map((l) => l.trim()).join(' '), long.trim());
    const options = `    <options: ${Array.from({length: 12}, (_, i) => `choice-${i}`).join('|')}>`;
    assert.deepEqual(tooWide(fitLine(options, 80).join('\n'), 80), []);
    assert.equal(
      fitLine(options, 80)
        .map((l) => l.trim())
        .join(''),
      options.trim(),
    );
    const cmd = `$ mtls-kit deploy ${Array.from({length: 12}, (_, i) => `--flag-${i} value-${i}`).join(' ')}`;
    const wrapped = wrapCommandLine(cmd, 78, 4);
    assert.deepEqual(tooWide(wrapped.join('\n'), 78), []);
    // As a shell reads it: a backslash-newline joins the lines.
    assert.equal(wrapped.join('\n').replace(/ \\\n {4}/g, ' '), cmd);
  });

  for (const width of [80, 120])
    it(`every command's -h and the root help at ${width} columns`, async () => {
      for (const args of [['-h'], ...commands.map((c) => [c, '-h'])]) {
        const r = await runCli(args, {env: {OCLIF_COLUMNS: String(width)}});
        assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
        assert.deepEqual(tooWide(r.stdout, width), [], `${args.join(' ')} at ${width} columns`);
        if (args[0] === 'deploy') {
          const lines = r.stdout.split('\n').length;
          assert.ok(lines <= (width === 80 ? 180 : 125), `deploy -h is ${lines} lines at ${width} columns`);
          assert.match(r.stdout, /LISTENER FLAGS/);
          assert.match(r.stdout, /docs\/deploy\.md/);
          assert.match(r.stdout, /mtls-kit\s+emulate/);
        }
      }
    });
});
