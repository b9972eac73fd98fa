import { accessSync, constants, mkdirSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { UsageError } from './errors.js';

/*
 * Output files (--json, --html, --log): checked before the work starts, so a
 * missing folder never costs a whole run; '-' is standard output everywhere
 * a file is taken, and then the human text moves to standard error.
 */

let stdoutTaken = false;

/** True once some output was given as '-': human lines go to stderr. */
export function isStdoutTaken(): boolean {
  return stdoutTaken;
}

/** Check (and create the folder of) an output file before the work; '-' claims stdout. */
export function prepareOutput(file: string | undefined, flag: string): void {
  if (file === undefined) return;
  if (file === '-') {
    stdoutTaken = true;
    return;
  }
  const dir = path.dirname(path.resolve(file));
  try {
    mkdirSync(dir, { recursive: true });
    accessSync(dir, constants.W_OK);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'EACCES' ? 'is not writable' : code === 'EEXIST' || code === 'ENOTDIR' ? 'cannot be created: a file is in the way' : 'cannot be created';
    throw new UsageError(`cannot write ${flag} '${file}': folder '${dir}' ${why} (${code ?? String(e)})`);
  }
  let isDir = false;
  try {
    isDir = statSync(file).isDirectory();
  } catch {
    // does not exist yet: fine
  }
  if (isDir) throw new UsageError(`cannot write ${flag} '${file}': it is a folder (give a file name, or - for stdout)`);
}

/** Write an output file, or stdout for '-'. */
export function writeOutput(file: string, text: string): void {
  if (file === '-') process.stdout.write(text);
  else writeFileSync(file, text);
}
