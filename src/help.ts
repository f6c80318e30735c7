/**
 * oclif's help, fitted to the terminal (package.json oclif.helpClass; exported by the bundle
 * entry): oclif wraps flag and description text to the width but prints a command's summary
 * line and its examples as they are, so one long summary or example made `-h` wider than an
 * 80-column terminal. Here the summary is wrapped like the rest, and an example command longer
 * than the width is broken at spaces with ` \` continuations, so it still pastes as one
 * command. oclif takes the width from the terminal (80 when not a terminal; OCLIF_COLUMNS
 * overrides it).
 */
import {stripVTControlCharacters} from 'node:util';
import {type Command, CommandHelp, Help} from '@oclif/core';

const visible = (s: string): number => [...stripVTControlCharacters(s)].length;

/**
 * A line of rendered help that is wider than `width`, broken at spaces (or, inside one long
 * word such as `<options: a|b|c>`, after a `|`) into lines that keep its indentation. oclif's
 * "FLAG DESCRIPTIONS" section and long option lists overflow by a few columns otherwise. A
 * word that cannot be broken stays whole.
 */
export function fitLine(line: string, width: number): string[] {
  if (visible(line) <= width || line.endsWith(' \\')) return [line];
  const indent = line.length - line.trimStart().length;
  const pad = ' '.repeat(indent);
  const room = width - indent;
  const words = line
    .trim()
    .split(' ')
    .flatMap((w) => (visible(w) > room ? w.split(/(?<=\|)/) : [w]));
  const out: string[] = [];
  let cur = '';
  for (const w of words) {
    const glue = cur === '' || cur.endsWith('|') ? '' : ' ';
    if (cur !== '' && visible(cur) + glue.length + visible(w) > room) {
      out.push(pad + cur);
      cur = w;
    } else cur += glue + w;
  }
  if (cur !== '') out.push(pad + cur);
  return out;
}

/** Every line of rendered help fitted to `width` (fitLine). */
function fitText(text: string, width: number): string {
  return text
    .split('\n')
    .flatMap((l) => fitLine(l, width))
    .join('\n');
}

/** Breaks a shell command at spaces into lines of at most `width`, continued with ` \`. */
export function wrapCommandLine(line: string, width: number, indent: number): string[] {
  const words = line.split(' ');
  const lines: string[] = [];
  let cur = '';
  for (const w of words) {
    const room = (lines.length === 0 ? width : width - indent) - 2;
    if (cur && cur.length + 1 + w.length > room) {
      lines.push(`${cur} \\`);
      cur = w;
    } else cur = cur ? `${cur} ${w}` : w;
  }
  lines.push(cur);
  return lines.map((l, i) => (i === 0 ? l : `${' '.repeat(indent)}${l}`));
}

class FittedCommandHelp extends CommandHelp {
  override generate(): string {
    return fitText(super.generate(), this.opts.maxWidth);
  }

  protected override examples(examples: Command.Example[] | string | undefined): string | undefined {
    if (!examples || examples.length === 0) return undefined;
    const list = Array.isArray(examples) ? examples : [examples];
    // The section indents the body by 2.
    const width = this.opts.maxWidth - 2;
    const body = list.map((e) => {
      if (typeof e !== 'string') return super.examples([e]) ?? '';
      return e
        .split('\n')
        .filter(Boolean)
        .map((line) => {
          const rendered = this.render(line);
          // A command (as oclif marks it, with "$ "), or a command after VAR=value assignments.
          if (rendered.startsWith(`${this.config.bin} `)) return wrapCommandLine(`$ ${rendered}`, width, 4).join('\n');
          if (/^[A-Z_]+=\S* /.test(rendered)) return wrapCommandLine(rendered, width, 4).join('\n');
          return this.wrap(rendered);
        })
        .join('\n');
    });
    return body.join('\n\n');
  }
}

export default class FittedHelp extends Help {
  protected override getCommandHelpClass(command: Command.Loadable): CommandHelp {
    return new FittedCommandHelp(command, this.config, this.opts);
  }

  /** The root help (`mtls-kit help`): its first line, the package description, wrapped too. */
  override formatRoot(): string {
    return fitText(super.formatRoot(), this.opts.maxWidth);
  }

  /** The first line of the summary, wrapped to the width like every other paragraph. */
  protected override summary(c: Command.Loadable): string | undefined {
    const s = super.summary(c);
    return s === undefined ? undefined : this.wrap(s);
  }
}
