//! The component's allocator: a bump pointer that never frees. Every call runs in a
//! fresh instance whose memory is dropped afterwards, so freeing only costs time;
//! dlmalloc's bookkeeping made rendering ~1.5x slower than needed. The host's memory
//! limit (128 MiB per call) still bounds what a call can take.

use core::alloc::{GlobalAlloc, Layout};
use core::arch::wasm32::{memory_grow, memory_size};
use core::cell::Cell;

const PAGE: usize = 65536;

pub struct Bump {
    next: Cell<usize>,
    end: Cell<usize>,
}

// SAFETY: a wasm32-wasip2 component instance runs on one thread.
unsafe impl Sync for Bump {}

#[global_allocator]
static ALLOCATOR: Bump = Bump { next: Cell::new(0), end: Cell::new(0) };

unsafe impl GlobalAlloc for Bump {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if self.end.get() == 0 {
            // Start above everything the module's data and stack occupy.
            let top = memory_size(0) * PAGE;
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

    unsafe fn dealloc(&self, _ptr: *mut u8, _layout: Layout) {}

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
        // SAFETY: the caller's contract for realloc; a fresh block, then a copy.
        unsafe {
            let new = self.alloc(Layout::from_size_align_unchecked(new_size, layout.align()));
            if !new.is_null() {
                core::ptr::copy_nonoverlapping(ptr, new, layout.size().min(new_size));
            }
            new
        }
    }
}
