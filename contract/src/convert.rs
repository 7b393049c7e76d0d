//! Conversions between these types and one side's generated bindings, declared field
//! by field and case by case. Each side lists its records and variants once with
//! [`record!`](crate::record) and [`variant!`](crate::variant); a struct literal and a
//! `match` without a wildcard are what make a missed field or case a compile error.

/// A value of one side of the contract as the other side's type.
pub trait Convert<T> {
    fn convert(self) -> T;
}

macro_rules! same {
    ($($t:ty),*) => { $(impl Convert<$t> for $t { fn convert(self) -> $t { self } })* };
}
same!(String, bool, f64, u64, u8, u16, u32, i32, ());

impl<A: Convert<B>, B> Convert<Vec<B>> for Vec<A> {
    fn convert(self) -> Vec<B> {
        self.into_iter().map(Convert::convert).collect()
    }
}

impl<A: Convert<B>, B> Convert<Option<B>> for Option<A> {
    fn convert(self) -> Option<B> {
        self.map(Convert::convert)
    }
}

impl<A: Convert<B>, B, E: Convert<F>, F> Convert<Result<B, F>> for Result<A, E> {
    fn convert(self) -> Result<B, F> {
        self.map(Convert::convert).map_err(Convert::convert)
    }
}

impl<A: Convert<B>, B, C: Convert<D>, D> Convert<(B, D)> for (A, C) {
    fn convert(self) -> (B, D) {
        (self.0.convert(), self.1.convert())
    }
}

/// A record, field by field, both ways: `record!(Name = module::Name { a, b })`
/// converts `contract::Name` and the generated `module::Name`.
#[macro_export]
macro_rules! record {
    ($name:ident = $wm:ident :: $wt:ident { $($field:ident),* $(,)? }) => {
        impl $crate::Convert<$crate::$name> for $wm::$wt {
            fn convert(self) -> $crate::$name {
                $crate::$name { $($field: $crate::Convert::convert(self.$field)),* }
            }
        }
        impl $crate::Convert<$wm::$wt> for $crate::$name {
            fn convert(self) -> $wm::$wt {
                $wm::$wt { $($field: $crate::Convert::convert(self.$field)),* }
            }
        }
    };
}

/// An enum or a variant, case by case (with its payload, if any), both ways.
#[macro_export]
macro_rules! variant {
    ($name:ident = $wm:ident :: $wt:ident { $($case:ident $(($p:ident))?),* $(,)? }) => {
        impl $crate::Convert<$crate::$name> for $wm::$wt {
            fn convert(self) -> $crate::$name {
                match self { $($wm::$wt::$case $(($p))? => $crate::$name::$case $(($crate::Convert::convert($p)))?),* }
            }
        }
        impl $crate::Convert<$wm::$wt> for $crate::$name {
            fn convert(self) -> $wm::$wt {
                match self { $($crate::$name::$case $(($p))? => $wm::$wt::$case $(($crate::Convert::convert($p)))?),* }
            }
        }
    };
}
