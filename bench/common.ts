import { Arena } from '../src/shm/arena.js';
import { Task } from '../src/shm/task.js';
import { MmCtx, modelInit, modelWords, modelSetupZeroPage, DEFAULT_MODEL, type ModelConfig } from '../src/mm/model.js';
import { mmAlloc, doMmap } from '../src/mm/mmap.js';
import { VM_READ, VM_WRITE } from '../src/mm/layout.js';
import type { Era } from '../src/mm/era.js';

/** Pages of the VMA a single-thread fault benchmark faults and zaps per sample. */
export const FAULT_PAGES = 64;

/** `--name value` from the command line, or `dflt`. */
export function arg(name: string, dflt: string): string {
  const i = process.argv.indexOf(name);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : dflt;
}

/** A one-thread arena with the model, one mm and one FAULT_PAGES anonymous VMA at page 0. */
export function faultSetup(era: Era, perVmaLock: boolean, flags = 0): { c: MmCtx; mm: number } {
  const cfg: ModelConfig = { ...DEFAULT_MODEL, era, perVmaLock };
  const arena = Arena.create({ threads: 1, scenarioWords: modelWords(cfg), flags });
  modelInit(arena, arena.scenBase, cfg);
  const c = new MmCtx(new Task(arena, 0), arena.scenBase);
  modelSetupZeroPage(c);
  const mm = mmAlloc(c);
  doMmap(c, mm, 0, FAULT_PAGES, { flags: VM_READ | VM_WRITE });
  return { c, mm };
}
