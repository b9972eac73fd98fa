import { Arena } from '../../src/shm/arena.js';
import { Task } from '../../src/shm/task.js';
import { bugWords } from '../../src/bugs/catalogue.js';
import { modelInit, modelWords, MmCtx, modelSetupZeroPage, DEFAULT_MODEL, type ModelConfig } from '../../src/mm/model.js';
import { mmAlloc } from '../../src/mm/mmap.js';

/** An arena holding only the mm model, with one MmCtx per thread and one mm. */
export function makeModel(over: Partial<ModelConfig> = {}, threads = 2, bugs: string[] = []) {
  const cfg: ModelConfig = { ...DEFAULT_MODEL, maxMms: 4, vmas: 128, nodes: 128, pageTables: 64, folios: 1024, anonVmas: 128, ...over };
  const [bugs0, bugs1] = bugWords(bugs);
  const arena = Arena.create({ threads, scenarioWords: modelWords(cfg), bugs0, bugs1, seed: 7 });
  modelInit(arena, arena.scenBase, cfg);
  const ctx = Array.from({ length: threads }, (_, i) => new MmCtx(new Task(arena, i), arena.scenBase));
  modelSetupZeroPage(ctx[0]);
  const mm = mmAlloc(ctx[0]);
  return { arena, cfg, c: ctx[0], c1: ctx[1], ctx, mm };
}
