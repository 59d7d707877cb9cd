//! The attribute's arguments: `name = "…"`.

use proc_macro2::Span;
use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::{Expr, ExprLit, Lit, LitStr, MetaNameValue, Token};

/// Parsed `#[bifrost_plugin(…)]` arguments.
pub struct Args {
    /// What `get_name` returns.
    pub name: LitStr,
}

impl Parse for Args {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let pairs = Punctuated::<MetaNameValue, Token![,]>::parse_terminated(input)?;
        let mut name = None;
        for pair in pairs {
            let key = pair
                .path
                .get_ident()
                .map(|i| i.to_string())
                .unwrap_or_default();
            match key.as_str() {
                "name" if name.is_some() => {
                    return Err(syn::Error::new_spanned(&pair.path, "`name` is given twice"));
                }
                "name" => name = Some(string_literal(&pair.value)?),
                _ => {
                    return Err(syn::Error::new_spanned(
                        &pair.path,
                        "unknown argument; expected `name = \"…\"`",
                    ));
                }
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
        Ok(Args { name })
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
