//! From Datasette's inputs to what the rules decide on: the files and flags read
//! (`inputs`), the request for the rules (`prepare`), the credentials source read
//! (`credentials`) and watched for change (`refresh`).

pub mod credentials;
pub mod inputs;
pub mod prepare;
pub mod refresh;
