import type { MmCtx } from './model.js';
import { Viol } from '../shm/kinds.js';
import { OBJ_GEN, OBJ_STATE } from './layout.js';
import { OBJ_LIVE, OBJ_RCU_FREE } from './slab.js';

/*
 * KASAN for the model's slab objects (mm/kasan): at a dereference of a
 * pointer a thread kept across a lock drop, an RCU section or a lockless
 * walk, one cheap inline check that the object is still allocated. Readers
 * inside an RCU read-side section may also see an object whose RCU free is
 * pending (that is what RCU guarantees them); nobody may see one that is
 * free. Free under --no-check. The report names the site by its kernel
 * function.
 */

/** Dereference sites (the report's "in <function>"). */
export const KS_MMU_WALK_PT = 1;
export const KS_MMU_WALK_FOLIO = 2;
export const KS_GUP_FAST_PT = 3;
export const KS_GUP_FAST_FOLIO = 4;
export const KASAN_SITES: readonly string[] = ['', 'the MMU walk (page table)', 'the MMU walk (folio)', 'gup_fast_pte_range (page table)', 'gup_fast_pte_range (folio)'];

/** kasan_check_read(): `obj` must be live (or pending an RCU free, if `rcuOk`). Returns whether it was. */
export function kasanCheck(c: MmCtx, obj: number, site: number, rcuOk: boolean): boolean {
  if (!c.t.checks) return true;
  const s = Atomics.load(c.i32, obj + OBJ_STATE);
  if (s === OBJ_LIVE || (rcuOk && s === OBJ_RCU_FREE)) return true;
  c.t.violation(Viol.KasanUseAfterFree, obj, obj, site, s, Atomics.load(c.i32, obj + OBJ_GEN));
  return false;
}
