/**
 * Colour on a terminal only: never when NO_COLOR is set (https://no-color.org),
 * never into a pipe or file unless FORCE_COLOR asks for it, never on TERM=dumb.
 */
export function colorEnabled(isTTY: boolean, env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '0' && env.FORCE_COLOR !== 'false') return true;
  return isTTY && env.TERM !== 'dumb';
}

export interface Paint {
  red(s: string): string;
  green(s: string): string;
  yellow(s: string): string;
  bold(s: string): string;
  /** A run status word in its colour (SUCCESS green, INTERRUPTED yellow, the rest red). */
  status(s: string): string;
}

export function colors(on: boolean | undefined): Paint {
  const wrap = (code: number) => (s: string) => (on ? `\x1b[${code}m${s}\x1b[0m` : s);
  const red = wrap(31);
  const green = wrap(32);
  const yellow = wrap(33);
  return {
    red, green, yellow, bold: wrap(1),
    status: (s) => (s === 'SUCCESS' || s === 'PASS' ? green(s) : s === 'INTERRUPTED' ? yellow(s) : red(s)),
  };
}
