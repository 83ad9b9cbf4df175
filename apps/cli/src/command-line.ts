export interface CommandLine {
  /** the command's name: one word, or two for grouped commands (`s3 setup`) */
  name: string | undefined;
  /** everything after the name, for the command's own flags */
  args: string[];
  configPath: string | undefined;
  help: boolean;
}

/**
 * Takes the global `--config FILE` / `-h` out of the arguments and finds the command, which may be
 * two words long (`s3 setup`); the rest belongs to the command.
 */
export function splitCommandLine(argv: string[], known: string[]): CommandLine {
  let configPath: string | undefined;
  let help = false;
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--config') configPath = argv[++i];
    else if (arg.startsWith('--config=')) configPath = arg.slice('--config='.length);
    else if (arg === '-h' || arg === '--help') help = true;
    else rest.push(arg);
  }
  const twoWords = rest.slice(0, 2).join(' ');
  const words = known.includes(twoWords) ? 2 : 1;
  return { name: rest.length ? rest.slice(0, words).join(' ') : undefined, args: rest.slice(words), configPath, help };
}
