//! Giving back the resident pages of data embedded in the binary once it has been read.

/// Drops this process's mapping of the whole pages inside `data` (read-only data of
/// the binary's own file), so they stop counting in its RSS. They stay in the page
/// cache and come back from the file if `data` is ever read again, unchanged: the
/// running binary cannot be written (ETXTBSY) and a replaced one keeps its old inode.
pub fn release(data: &'static [u8]) {
    let page =
        nix::unistd::sysconf(nix::unistd::SysconfVar::PAGE_SIZE).ok().flatten().unwrap_or(4096) as usize;
    let start = (data.as_ptr() as usize).div_ceil(page) * page;
    let end = (data.as_ptr() as usize + data.len()) / page * page;
    if end <= start {
        return;
    }
    let Some(at) = std::ptr::NonNull::new(start as *mut std::ffi::c_void) else { return };
    // SAFETY: the range lies inside a 'static read-only mapping of the executable;
    // MADV_DONTNEED on it only unmaps pages that are re-read from the file on access.
    let _ = unsafe { nix::sys::mman::madvise(at, end - start, nix::sys::mman::MmapAdvise::MADV_DONTNEED) };
}

#[cfg(test)]
mod tests {
    static DATA: [u8; 5 << 16] = {
        let mut d = [0u8; 5 << 16];
        let mut i = 0;
        while i < d.len() {
            d[i] = (i % 251) as u8;
            i += 1;
        }
        d
    };

    #[test]
    fn released_data_reads_back_unchanged() {
        let before: u64 = DATA.iter().map(|&b| b as u64).sum();
        super::release(&DATA);
        let after: u64 = std::hint::black_box(&DATA).iter().map(|&b| b as u64).sum();
        assert_eq!(before, after);
        assert!(DATA.iter().enumerate().all(|(i, &b)| b == (i % 251) as u8));
    }
}
