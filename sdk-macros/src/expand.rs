//! Validates the annotated item and emits it unchanged, followed by one call
//! of the SDK's export macro.

use proc_macro2::TokenStream;
use quote::quote;
use syn::spanned::Spanned;
use syn::{ImplItem, Item, ItemImpl};

use crate::args::Args;
use crate::hooks;

const WRONG_ITEM: &str = "#[bifrost_plugin] goes on an `impl Plugin for YourType` block";

pub fn expand(args: Args, item: Item) -> syn::Result<TokenStream> {
    let Item::Impl(imp) = item else {
        return Err(syn::Error::new(item_span(&item), WRONG_ITEM));
    };
    check_impl(&imp)?;
    hooks::validate(&imp.items)?;
    let self_ty = &imp.self_ty;
    let (name, krate) = (&args.name, &args.krate);
    // The hooks it defines: the SDK passes the others' inputs on unread.
    let defined = imp.items.iter().filter_map(|item| match item {
        ImplItem::Fn(method) => Some(method.sig.ident.to_string()),
        _ => None,
    });
    Ok(quote! {
        #imp
        #krate::__export_abi!(#self_ty, #name, [#(#defined),*]);
    })
}

/// The item must be `impl Plugin for Type` with no generics: the exports
/// need one concrete type.
fn check_impl(imp: &ItemImpl) -> syn::Result<()> {
    let Some((_, trait_path, _)) = &imp.trait_ else {
        return Err(syn::Error::new_spanned(
            &imp.self_ty,
            format!("{WRONG_ITEM}, not an inherent impl"),
        ));
    };
    let is_plugin = trait_path
        .segments
        .last()
        .is_some_and(|segment| segment.ident == "Plugin");
    if !is_plugin {
        return Err(syn::Error::new_spanned(
            trait_path,
            format!("{WRONG_ITEM}; this implements another trait"),
        ));
    }
    if !imp.generics.params.is_empty() {
        return Err(syn::Error::new_spanned(
            &imp.generics,
            "a plugin type cannot be generic: the exports need one concrete type",
        ));
    }
    Ok(())
}

/// Points at the item's keyword and name rather than its whole body.
fn item_span(item: &Item) -> proc_macro2::Span {
    match item {
        Item::Fn(f) => f.sig.ident.span(),
        Item::Struct(s) => s.ident.span(),
        Item::Enum(e) => e.ident.span(),
        Item::Trait(t) => t.ident.span(),
        Item::Mod(m) => m.ident.span(),
        other => other.span(),
    }
}
