//! Getting a database back from its replica (`restore`) and proving that one can
//! (`verify`).

pub mod restore;
pub mod verify;
