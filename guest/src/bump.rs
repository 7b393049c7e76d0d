//! The component's allocator: a bump pointer that frees everything at once, whenever
//! no allocation is live. dealloc only counts (alloc +1, dealloc -1, realloc neither);
//! when the count returns to 0 the bump pointer goes back to the start of the heap.
//! Freeing block by block only costs time here: dlmalloc's bookkeeping made rendering
//! ~1.5x slower than needed. Counting costs 2-3 % over a dealloc that does nothing (the
//! drop code such a dealloc let the compiler delete runs again, +33 KB of component).
//!
//! Between two calls nothing is live: the canonical ABI hands a call's arguments to the
//! guest, which drops them, and the host's post-return frees the returned value. So a
//! component instantiated once and called any number of times (wasmtime-py, jco) runs
//! every call in the same memory, as one that gets a fresh instance per call (the Rust
//! host) does. Nothing in the guest allocates for good (no static cache, no lazily
//! initialised std state): if something did, the count would never return to 0 and
//! memory would grow with every call again, which examples/python/reuse.py and
//! examples/js/reuse.js (100,000 calls on one instance) would catch. The host's memory
//! limit (128 MiB per call) still bounds what a call can take.

use core::alloc::{GlobalAlloc, Layout};
use core::arch::wasm32::{memory_grow, memory_size};
use core::cell::Cell;

const PAGE: usize = 65536;

pub struct Bump {
    /// Where the heap starts (0 until the first allocation).
    base: Cell<usize>,
    next: Cell<usize>,
    end: Cell<usize>,
    /// Allocations made and not yet freed.
    live: Cell<usize>,
}

// SAFETY: a wasm32-wasip2 component instance runs on one thread.
unsafe impl Sync for Bump {}

#[global_allocator]
static ALLOCATOR: Bump =
    Bump { base: Cell::new(0), next: Cell::new(0), end: Cell::new(0), live: Cell::new(0) };

impl Bump {
    /// A block for `layout` past the bump pointer, growing memory when needed; null
    /// when memory cannot grow. Does not count it.
    #[inline(always)]
    fn bump(&self, layout: Layout) -> *mut u8 {
        if self.end.get() == 0 {
            // Start above everything the module's data and stack occupy.
            let top = memory_size(0) * PAGE;
            self.base.set(top);
            self.next.set(top);
            self.end.set(top);
        }
        let start = (self.next.get() + layout.align() - 1) & !(layout.align() - 1);
        let Some(stop) = start.checked_add(layout.size()) else { return core::ptr::null_mut() };
        if stop > self.end.get() {
            let pages = (stop - self.end.get()).div_ceil(PAGE);
            if memory_grow(0, pages) == usize::MAX {
                return core::ptr::null_mut();
            }
            self.end.set(self.end.get() + pages * PAGE);
        }
        self.next.set(stop);
        start as *mut u8
    }
}

unsafe impl GlobalAlloc for Bump {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let ptr = self.bump(layout);
        if !ptr.is_null() {
            self.live.set(self.live.get() + 1);
        }
        ptr
    }

    unsafe fn dealloc(&self, _ptr: *mut u8, _layout: Layout) {
        debug_assert!(self.live.get() > 0, "dealloc without a live allocation");
        let live = self.live.get() - 1;
        self.live.set(live);
        if live == 0 {
            // Nothing is live: the whole heap is free again. (The memory stays grown;
            // wasm cannot shrink it, and the next call reuses it.)
            self.next.set(self.base.get());
        }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // Growing the newest allocation in place is the common case (a String or Vec
        // being built): no copy.
        if ptr as usize + layout.size() == self.next.get() {
            let stop = ptr as usize + new_size;
            if stop <= self.end.get() {
                self.next.set(stop);
                return ptr;
            }
        }
        // A fresh block, then a copy. The old block is left behind and the new one
        // takes its place in the count (one allocation before, one after), so this
        // bumps without counting.
        // SAFETY: the caller's contract for realloc: `new_size` rounded up to the
        // alignment does not overflow, `ptr` holds `layout.size()` bytes, and the new
        // block lies past the bump pointer, apart from it.
        unsafe {
            let new = self.bump(Layout::from_size_align_unchecked(new_size, layout.align()));
            if !new.is_null() {
                core::ptr::copy_nonoverlapping(ptr, new, layout.size().min(new_size));
            }
            new
        }
    }
}
