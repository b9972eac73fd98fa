import type { MmCtx } from './model.js';
import { Viol } from '../shm/kinds.js';
import { OBJ_GEN, OBJ_STATE, MM_COUNT, MM_ID } from './layout.js';
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

/** Object state the report shows for a freed object that was allocated again. */
export const OBJ_REUSED = 3;

/** Dereference sites (the report's "in <function>"). */
export const KS_MMU_WALK_PT = 1;
export const KS_MMU_WALK_FOLIO = 2;
export const KS_GUP_FAST_PT = 3;
export const KS_GUP_FAST_FOLIO = 4;
export const KS_MAS_WALK = 5;
export const KS_FIND_VMA = 6;
export const KS_FAULT_MM = 7;
export const KS_VMA_PUT_MM = 8;
export const KS_VMA_UNDER_RCU = 9;
export const KS_RMAP_VMA = 10;
export const KS_RMAP_PT = 11;
export const KS_RMAP_MM = 12;
export const KS_RMAP_AV = 13;
export const KS_RMAP_AVC = 14;
export const KS_HUGETLB_VMA_UNLOCK = 15;
export const KS_ANON_NEIGHBOUR = 16;
export const KS_TLB_HIT = 17;
export const KS_ZAP_PT = 18;
export const KASAN_SITES: readonly string[] = [
  '', 'the MMU walk (page table)', 'the MMU walk (folio)', 'gup_fast_pte_range (page table)', 'gup_fast_pte_range (folio)',
  'mas_walk (maple node)', 'find_vma (maple node)', 'do_user_addr_fault (mm_struct)', 'vma_refcount_put (mm_struct)', 'lock_vma_under_rcu (vm_area_struct)',
  'rmap_walk_anon (vm_area_struct)', 'page_vma_mapped_walk (page table)', 'try_to_unmap_one (mm_struct)', 'folio_lock_anon_vma_read (anon_vma)',
  'rmap_walk_anon (anon_vma_chain)', 'hugetlb_vma_unlock_read (vm_area_struct)', 'find_mergeable_anon_vma (vm_area_struct)',
  'a userspace access through a cached TLB entry (folio)', 'zap_pte_range (page table)',
];

/** kasan_check_read(): `obj` must be live (or pending an RCU free, if `rcuOk`). Returns whether it was. */
export function kasanCheck(c: MmCtx, obj: number, site: number, rcuOk: boolean): boolean {
  if (!c.t.checks) return true;
  const s = Atomics.load(c.i32, obj + OBJ_STATE);
  if (s === OBJ_LIVE || (rcuOk && s === OBJ_RCU_FREE)) return true;
  c.t.violation(Viol.KasanUseAfterFree, obj, obj, site, s, Atomics.load(c.i32, obj + OBJ_GEN));
  return false;
}

/**
 * The same check after a read of `obj` that began when its generation was
 * `gen`: it must still be that allocation (a node freed and reused under a
 * walker is a use-after-free even though it is live again).
 */
export function kasanCheckGen(c: MmCtx, obj: number, gen: number, site: number, rcuOk: boolean): boolean {
  if (!c.t.checks) return true;
  const s = Atomics.load(c.i32, obj + OBJ_STATE);
  const g = Atomics.load(c.i32, obj + OBJ_GEN);
  if (g === gen && (s === OBJ_LIVE || (rcuOk && s === OBJ_RCU_FREE))) return true;
  c.t.violation(Viol.KasanUseAfterFree, obj, obj, site, g === gen ? s : OBJ_REUSED, g);
  return false;
}

/**
 * An mm_struct the caller reached through an object of another mm (a
 * recycled VMA's vm_mm) must be pinned by this thread — an mmgrab() it
 * holds: nothing else keeps that mm alive, whether or not it is freed this
 * time. The caller's own mm (the one it locked the object for) is not
 * checked here.
 */
export function mmAssertPinned(c: MmCtx, mm: number, site: number): boolean {
  if (!c.t.directAsserts || mm < 0 || c.mmPins[c.mmSlot(mm)] > 0) return true;
  c.t.violation(Viol.MmNotPinned, mm, mm, site, 0, 0);
  return false;
}

/** An mm_struct dereferenced by a thread must be pinned (mm_count > 0: mmgrab, or mm_users through mmget). */
export function kasanCheckMm(c: MmCtx, mm: number, site: number): boolean {
  if (!c.t.checks) return true;
  if (Atomics.load(c.i32, mm + MM_COUNT) > 0) return true;
  c.t.violation(Viol.KasanUseAfterFree, mm, mm, site, 0, Atomics.load(c.i32, mm + MM_ID));
  return false;
}
