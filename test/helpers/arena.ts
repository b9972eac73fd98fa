import { Arena } from '../../src/shm/arena.js';
import { Task } from '../../src/shm/task.js';
import { bugWords } from '../../src/bugs/catalogue.js';

/** A small arena for single-thread unit tests, with tasks for `threads` threads. */
export function makeArena(threads = 2, bugs: string[] = [], scenarioWords = 1024): { arena: Arena; tasks: Task[]; base: number } {
  const [bugs0, bugs1] = bugWords(bugs);
  const arena = Arena.create({ threads, scenarioWords, bugs0, bugs1, seed: 42 });
  const tasks = Array.from({ length: threads }, (_, i) => new Task(arena, i));
  return { arena, tasks, base: arena.scenBase };
}
