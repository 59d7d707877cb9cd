//! The `#[bifrost_plugin]` attribute of `bifrost-plugin-sdk`.
//!
//! Depend on `bifrost-plugin-sdk`, which re-exports it; this crate only parses
//! and validates. All generated code is one call of the SDK's export macro,
//! whose functions live (and are tested) in the SDK.

#![warn(missing_docs)]

use proc_macro::TokenStream;
use syn::parse_macro_input;

mod args;
mod expand;
mod hooks;

/// Generates a Bifrost plugin's wasm exports from its `impl Plugin` block.
///
/// (Not a doc-test here: this crate cannot depend on the SDK that re-exports
/// it. The SDK's documentation of `bifrost_plugin` has the tested example.)
///
/// ```ignore
/// #[bifrost_plugin(name = "Hello World WASM Plugin")]
/// impl Plugin for HelloWorld { /* … */ }
/// ```
///
/// A plugin that renamed the dependency says where the SDK is:
/// `#[bifrost_plugin(name = "…", crate = my_sdk)]`.
///
/// See the `bifrost-plugin-sdk` documentation.
#[proc_macro_attribute]
pub fn bifrost_plugin(attr: TokenStream, item: TokenStream) -> TokenStream {
    let args = parse_macro_input!(attr as args::Args);
    let item = parse_macro_input!(item as syn::Item);
    expand::expand(args, item)
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}
