/**
 * oclif's command_not_found hook (package.json oclif.hooks, exported lazily by the bundle
 * entry): `mtls-kit gen-clinet` names the closest command (plugin-not-found's rule) in the
 * one error style, exit 2, and with --json prints one JSON error document on stdout.
 * plugin-not-found's own hook is not used: it prompts on a terminal, exits 127 and prints
 * oclif's warning style.
 */
import {Errors, type Hook} from '@oclif/core';
import {ExitCode} from './lib/errors.js';
import {printErrorBody} from './ui/error-output.js';
import {closest} from './usage.js';

const hook: Hook.CommandNotFound = async (opts) => {
  const {config} = opts;
  const bin = config.bin;
  const ids = config.commands.filter((c) => !c.hidden).map((c) => c.id);
  const typed = opts.id.replaceAll(':', ' ');
  const first = opts.id.split(':')[0]!;
  const json = (opts.argv ?? []).includes('--json');
  // `gen-client device-9`: a real command and a word it does not take as an argument.
  const command = config.commands.find((c) => c.id === first);
  const rest = opts.id.split(':').slice(1).join(' ');
  if (command && rest) {
    const asName = command.flags && 'cn' in command.flags ? [`did you mean: ${bin} ${first} --cn ${rest}`] : [];
    printErrorBody(
      {
        code: 'UNEXPECTED_ARGUMENT',
        message: `${first} takes no argument ${rest}`,
        suggestions: [...asName, `${bin} ${first} --help lists its flags`],
        exitCode: ExitCode.Usage,
      },
      json,
    );
    throw new Errors.ExitError(ExitCode.Usage);
  }
  const near = closest(opts.id, ids) ?? closest(first, ids);
  const suggestions = near ? [`did you mean: ${bin} ${near.replaceAll(':', ' ')}`] : [];
  suggestions.push(`${bin} help lists the commands`);
  printErrorBody({code: 'UNKNOWN_COMMAND', message: `${typed} is not a ${bin} command`, suggestions, exitCode: ExitCode.Usage}, json);
  throw new Errors.ExitError(ExitCode.Usage);
};

export default hook;
