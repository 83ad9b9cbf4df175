// The Dockerfile's instructions, read as Docker reads them (no Docker engine here to build it):
// comments dropped, continued lines joined, each instruction with the stage it belongs to.
import { readFileSync } from 'node:fs';

export interface Instruction {
  /** index of the stage (0 = the first FROM) */
  stage: number;
  keyword: string;
  args: string;
}

export function readDockerfile(file = new URL('../../Dockerfile', import.meta.url)): Instruction[] {
  const joined = readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => !line.trimStart().startsWith('#'))
    .join('\n')
    .replace(/\\\n/g, ' ');
  const instructions: Instruction[] = [];
  let stage = -1;
  for (const line of joined.split('\n').map((l) => l.trim())) {
    if (!line) continue;
    const [keyword = '', ...rest] = line.split(/\s+/);
    if (keyword.toUpperCase() === 'FROM') stage++;
    instructions.push({ stage, keyword: keyword.toUpperCase(), args: rest.join(' ') });
  }
  return instructions;
}

/** The exec form's argument list of `HEALTHCHECK … CMD [...]`. */
export function healthcheckCommand(instructions: Instruction[]): string[] {
  const check = instructions.find((i) => i.keyword === 'HEALTHCHECK');
  const json = check?.args.slice(check.args.indexOf('CMD ') + 4);
  return json ? JSON.parse(json) : [];
}
