//! The attribute's arguments: `name = "…"` and, optionally, `crate = path`.

use proc_macro2::Span;
use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::{Expr, ExprLit, ExprPath, Lit, LitStr, MetaNameValue, Path, Token};

/// Parsed `#[bifrost_plugin(…)]` arguments.
pub struct Args {
    /// What `get_name` returns.
    pub name: LitStr,
    /// Where the SDK is: `::bifrost_plugin_sdk` unless the plugin renamed
    /// the dependency (`crate = my_sdk`).
    pub krate: Path,
}

const EXPECTED: &str = "unknown argument; expected `name = \"…\"` or `crate = path::to::sdk`";

impl Parse for Args {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let pairs = Punctuated::<MetaNameValue, Token![,]>::parse_terminated(input)?;
        let (mut name, mut krate) = (None, None);
        for pair in pairs {
            let key = pair
                .path
                .get_ident()
                .map(|i| i.to_string())
                .unwrap_or_default();
            let already = match key.as_str() {
                "name" => name.is_some(),
                "crate" => krate.is_some(),
                _ => return Err(syn::Error::new_spanned(&pair.path, EXPECTED)),
            };
            if already {
                return Err(syn::Error::new_spanned(
                    &pair.path,
                    format!("`{key}` is given twice"),
                ));
            }
            match key.as_str() {
                "name" => name = Some(string_literal(&pair.value)?),
                _ => krate = Some(path(&pair.value)?),
            }
        }
        let name = name.ok_or_else(|| {
            syn::Error::new(
                Span::call_site(),
                "missing plugin name: write #[bifrost_plugin(name = \"my-plugin\")]",
            )
        })?;
        if name.value().trim().is_empty() {
            return Err(syn::Error::new(
                name.span(),
                "the plugin name must not be empty",
            ));
        }
        let krate = krate.unwrap_or_else(|| syn::parse_quote!(::bifrost_plugin_sdk));
        Ok(Args { name, krate })
    }
}

fn string_literal(value: &Expr) -> syn::Result<LitStr> {
    match value {
        Expr::Lit(ExprLit {
            lit: Lit::Str(lit), ..
        }) => Ok(lit.clone()),
        other => Err(syn::Error::new_spanned(
            other,
            "the plugin name must be a string literal, e.g. name = \"my-plugin\"",
        )),
    }
}

fn path(value: &Expr) -> syn::Result<Path> {
    match value {
        Expr::Path(ExprPath {
            path, qself: None, ..
        }) => Ok(path.clone()),
        other => Err(syn::Error::new_spanned(
            other,
            "`crate` must be the path the SDK is known by, e.g. crate = my_sdk",
        )),
    }
}
