//! The component's exports: each WIT function converts its arguments to the contract's
//! plain types (`conversions.rs`), calls the rule, and converts the answer back.

mod wit {
    wit_bindgen::generate!({ world: "rules-component", path: "../wit" });
}

mod calls;
mod conversions;

struct Component;

wit::export!(Component with_types_in wit);
