//! What runs beside Litestream about each replica: how far behind it is (`lag`),
//! whether another node writes it (`writers`), and durable writes waiting for it
//! (`durability`). Each gathers evidence; the rules judge it.

pub mod durability;
pub mod lag;
pub mod writers;
